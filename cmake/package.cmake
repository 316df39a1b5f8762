# The self-contained package: everything a bare CUDA machine (driver + toolkit, no package registry)
# needs to run and verify nudge with one command, `bin/nudge-selftest`. Made with CMake's own
# tools: install rules, the shared libraries the programs load found by CMake's runtime-dependency
# analysis, and CPack.  `scripts/package BUILD_DIR` makes it.
#
#   bin/    examples, nudge_tests (and resume_worker, which it runs), bench_*, nudge-selftest
#   lib/    libnudge and the libraries a bare machine lacks (OpenBLAS and its Fortran runtime,
#           Google Benchmark, zlib, libstdc++, libgcc_s); never the C library, the CUDA driver or
#           the CUDA toolkit's libraries, which that machine has
#   lib/mpi/, bin/nudge-mpi  an Open MPI runtime (orted, plugins, PMIx, help texts) and the command
#           that runs a program with it, so the distributed tests run where Open MPI is not installed
#   share/nudge/  bench/run and its scripts, the PyTorch interop and the distributed test scripts
#   include/, lib/cmake/nudge/  the library for find_package(nudge)

set(nudge_programs)
foreach(target two_parameter one_neuron and_gate sigmoid_neuron xor apartment_prices fashion_mnist fashion_mnist_cnn graph_training demo
               nudge_tests resume_worker footprint_probe dlopen_probe nudge_interpreter bench_ops bench_fused bench_training
               nudge_distributed_tests distributed_failure_probe)
  if(TARGET ${target})
    list(APPEND nudge_programs ${target})
  endif()
endforeach()
install(TARGETS ${nudge_programs} RUNTIME_DEPENDENCY_SET nudge_runtime RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS tests/selftest/nudge-selftest DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS bench/run bench/report.py bench/startup.py bench/torch_baseline.py DESTINATION ${CMAKE_INSTALL_DATADIR}/nudge/bench)
install(PROGRAMS tests/interop/torch_interop.sh tests/interop/torch_interop.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/nudge/tests/interop)
install(PROGRAMS tests/differential/run.sh tests/differential/difftest.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/nudge/tests/differential)

install(PROGRAMS tests/distributed/failing_rank.sh tests/distributed/mpirun_retry.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/nudge/tests/distributed)

# Open MPI's runtime, relocated (scripts/carry-mpi says how). Only Open MPI's: it is what Debian has.
find_program(NUDGE_OMPI_INFO ompi_info)
if(NUDGE_WITH_MPI AND NUDGE_OMPI_INFO)
  install(CODE "
    execute_process(COMMAND \"${PROJECT_SOURCE_DIR}/scripts/carry-mpi\" \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}\"
                    RESULT_VARIABLE carried)
    if(NOT carried EQUAL 0)
      message(FATAL_ERROR \"scripts/carry-mpi failed: the package would have no MPI runtime\")
    endif()")
elseif(NUDGE_WITH_MPI)
  message(WARNING "nudge: MPI is not Open MPI (no ompi_info): the package carries no MPI runtime and the "
                  "self-test will report the distributed tests (and NCCL) as not verified")
endif()

install(RUNTIME_DEPENDENCY_SET nudge_runtime
  DESTINATION ${CMAKE_INSTALL_LIBDIR}
  # Never carried: the C library family, the CUDA driver and toolkit, and nudge itself (installed above).
  PRE_EXCLUDE_REGEXES
    "^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv)[.-]"
    "^lib(cuda|cudart|cublas|cublasLt|nvidia|nccl|cudnn|nvrtc|nvJitLink)[.-]"
    "^libnudge[.]"
  POST_EXCLUDE_REGEXES "^/usr/local/cuda" "/nvidia/"
  DIRECTORIES ${CMAKE_BINARY_DIR}/lib)

set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGE_NAME nudge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}: library, examples, tests, benchmarks and nudge-selftest")
if(NUDGE_WITH_CUDA)
  set(nudge_package_flavour "cuda-sm${CMAKE_CUDA_ARCHITECTURES}")
else()
  set(nudge_package_flavour "cpu")
endif()
set(CPACK_PACKAGE_FILE_NAME "nudge-${PROJECT_VERSION}-${nudge_package_flavour}-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
set(CPACK_ARCHIVE_THREADS 0)
include(CPack)
