// A CPU program of a CUDA build costs what the CPU-only build costs: the CUDA backend, and with it
// the CUDA runtime and cuBLAS, is loaded on first CUDA use only (kernels/dispatch.cpp).
#include <dlfcn.h>

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
