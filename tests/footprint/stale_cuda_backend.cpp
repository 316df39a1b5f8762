// A CUDA module from another build, as a stale install would leave beside libnudge: its interface
// number is not libnudge's, so libnudge must refuse it (and say why) without calling into it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" __attribute__((visibility("default"))) std::uint64_t nudge_cuda_backend_abi() { return 1; }

extern "C" __attribute__((visibility("default"))) void nudge_register_cuda_backend() {
  std::fprintf(stderr, "stale_cuda_backend: registered although its interface differs\n");
  std::abort();
}
