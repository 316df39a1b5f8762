# The public API: the headers a nudge program may include, and nothing else. They are linked into
# build/include (the only include directory of the layers above core and of programs using nudge)
# and they are exactly what `cmake --install` installs. core/'s internal helpers and every backend
# header (kernels/) are absent, so including one from nn/, optim/, data/, monitor/, serialization/
# or examples/ fails to compile.
file(GLOB nudge_public_headers RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS
  core/*.h core/autograd/*.h nn/*.h optim/*.h data/*.h monitor/*.h serialization/*.h)
set(nudge_internal_headers
  core/capture_arena.h   # the memory of CPU graph captures (Storage's side of core/graph.h)
  core/hot_thread_local.h # the TLS model of the thread-locals every op reads
  core/ops_checks.h      # argument checks shared by the op implementations
  core/ops_internal.h    # internal ops the backward formulas share
  core/strided_loop.h)   # Tensor -> kernels::StridedLoop (a backend call description)
list(REMOVE_ITEM nudge_public_headers ${nudge_internal_headers})

set(nudge_public_include_dir ${PROJECT_BINARY_DIR}/include)
file(REMOVE_RECURSE ${nudge_public_include_dir})
foreach(header ${nudge_public_headers})
  get_filename_component(dir ${nudge_public_include_dir}/${header} DIRECTORY)
  file(MAKE_DIRECTORY ${dir})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${header} ${nudge_public_include_dir}/${header} SYMBOLIC)
endforeach()
# `#include <nudge/nudge.h>`: everything, from the build tree and from an install alike.
file(WRITE ${nudge_public_include_dir}/nudge/nudge.h
  "#pragma once\n#include \"core/nudge.h\"\n#include \"nn/nn.h\"\n#include \"optim/optim.h\"\n"
  "#include \"data/data.h\"\n#include \"serialization/serialization.h\"\n#include \"monitor/monitor.h\"\n")
# Nothing to build: the links exist from configure time on (a target for add_dependencies).
add_custom_target(nudge_public_headers)
