// Run by ctest (distributed.cpu_footprint): a CPU-only distributed step in a CUDA build, then
// whether NCCL or the CUDA runtime is mapped into this process. Neither should be: they come with
// the NCCL module on the first collective of a CUDA tensor.
#include <cstdio>

#include <nudge/nudge.h>

#include "distributed/distributed.h"
#include "footprint/process_maps.h"

int main() {
  using nudge::testing::mapped;
  nudge::distributed::Environment environment;
  const nudge::Tensor t = nudge::ones({8});
  environment.group().all_reduce(t).wait();
  std::printf("sum=%g nccl=%d cudart=%d\n", nudge::sum(t).item<double>(), mapped("libnccl") ? 1 : 0,
              mapped("libcudart") ? 1 : 0);
  return 0;
}
