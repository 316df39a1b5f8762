// A CPU program of a CUDA build costs what the CPU-only build costs: the CUDA backend, and with it
// the CUDA runtime and cuBLAS, is loaded on first CUDA use only (kernels/dispatch.cpp).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "test_util.h"

namespace nudge::testing {
namespace {

std::string run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
  EXPECT_EQ(pclose(pipe), 0) << out;
  return out;
}

std::string run_probe(const std::string& environment) {
  return run_command(environment + " " + example_bin_dir() + "/footprint_probe");
}

TEST(Footprint, CpuWorkLoadsNoCudaLibraryAndTheBackendComesOnFirstCudaUse) {
  if (!std::filesystem::exists(example_bin_dir() + "/footprint_probe"))
    GTEST_SKIP() << "footprint_probe is not in " << example_bin_dir();
  // NUDGE_LOAD_CUDA=1: load the backend on first CUDA use even without a GPU device file, so
  // that the loading itself is tested on machines without a GPU.
  const std::string out = run_probe("NUDGE_LOAD_CUDA=1");
  EXPECT_NE(out.find("cpu work: cudart=0 cublas=0 backend=0"), std::string::npos) << out;
  const bool built_with_cuda = out.find("built without CUDA") == std::string::npos;
  const std::string loaded = built_with_cuda ? "asked about cuda: cudart=1 cublas=1 backend=1"
                                             : "asked about cuda: cudart=0 cublas=0 backend=0";
  EXPECT_NE(out.find(loaded), std::string::npos) << out;
  if (!built_with_cuda) return;
  // Without it, a machine without an NVIDIA device file does not load the backend even when asked
  // (the question "is there a GPU?" of --device auto costs nothing there).
  const bool device_file = std::filesystem::exists("/dev/nvidiactl") || std::filesystem::exists("/dev/dxg");
  const std::string plain = run_probe("NUDGE_LOAD_CUDA=0");
  EXPECT_NE(plain.find(device_file ? "asked about cuda: cudart=1 cublas=1 backend=1"
                                   : "asked about cuda: cudart=0 cublas=0 backend=0"),
            std::string::npos)
      << plain;
  if (!device_file) {
    EXPECT_NE(plain.find("no NVIDIA device file"), std::string::npos) << plain;
  }
}

// H1: since CUDA 12, cudaSetDevice creates the context it switches to, so a device guard that
// restores device 0 put a context (~0.5 GiB) on GPU 0 in every process, e.g. every MPI rank. A
// fresh process works on cuda:1 only (ops, a read back, a pinned upload, an event, frees) and
// asks the driver: GPU 0 has no primary context.
TEST(Footprint, WorkOnTheSecondGpuLeavesNoContextOnTheFirst) {
  NUDGE_REQUIRE_CUDA();
  if (cuda::device_count() < 2) GTEST_SKIP() << "needs two GPUs, this machine has " << cuda::device_count();
  if (!std::filesystem::exists(example_bin_dir() + "/footprint_probe"))
    GTEST_SKIP() << "footprint_probe is not in " << example_bin_dir();
  const std::string out = run_command(example_bin_dir() + "/footprint_probe --second-gpu-only");
  EXPECT_NE(out.find("gpu0_context=0 gpu1_context=1"), std::string::npos) << out;
}

// H15: libnudge loads a CUDA module only if it reports libnudge's own interface number: a module
// left by another build is refused with a reason, never called into. libnudge is preloaded from a
// folder holding it and a stale module (the module is looked up beside libnudge's own file).
TEST(Footprint, ACudaModuleFromAnotherBuildIsRefused) {
#ifndef NUDGE_STALE_CUDA_BACKEND
  GTEST_SKIP() << "a CPU-only build has no CUDA module to refuse";
#else
  if (!std::filesystem::exists(NUDGE_STALE_CUDA_BACKEND) ||
      !std::filesystem::exists(example_bin_dir() + "/footprint_probe"))
    GTEST_SKIP() << "the stale module or footprint_probe is not here (an installed package)";
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&memory::live_bytes), &info), 0);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("nudge-stale-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path libnudge = dir / std::filesystem::path(info.dli_fname).filename();
  std::filesystem::copy_file(info.dli_fname, libnudge);
  std::filesystem::copy_file(NUDGE_STALE_CUDA_BACKEND, dir / "libnudge_cuda.so");
  const std::string out =
      run_command("LD_PRELOAD=" + libnudge.string() + " NUDGE_LOAD_CUDA=1 " + example_bin_dir() + "/footprint_probe");
  std::filesystem::remove_all(dir);
  EXPECT_NE(out.find("was built for another libnudge (interface 1, this libnudge has"), std::string::npos) << out;
  EXPECT_NE(out.find("available=0"), std::string::npos) << out;
#endif
}

// Python's ctypes, plugin hosts and language bindings load libnudge with dlopen: that fails with
// "cannot allocate memory in static TLS block" once its initial-exec thread-locals outgrow glibc's
// reserve (a 9 KB per-thread cache once did).
TEST(Footprint, LibnudgeLoadsWithDlopenIntoAProcessNotLinkedWithIt) {
  const std::string probe = example_bin_dir() + "/dlopen_probe";
  if (!std::filesystem::exists(probe)) GTEST_SKIP() << "dlopen_probe is not in " << example_bin_dir();
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&memory::live_bytes), &info), 0);
  const std::string out = run_command(probe + " " + info.dli_fname);
  EXPECT_NE(out.find("dlopen ok"), std::string::npos) << out;
}

}  // namespace
}  // namespace nudge::testing
