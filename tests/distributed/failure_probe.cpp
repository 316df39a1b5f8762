// A job in which rank 1 fails, for failing_rank.sh: the other ranks must stop with a clear error
// within a timeout, never hang, and never replace the last good checkpoint.
//   failure_probe exit [cuda]   rank 1 exits (without MPI_Finalize) before an all_reduce the others
//                               wait in
//   failure_probe skip [cuda]   rank 1 never calls that all_reduce: the others' wait times out (2 s),
//                               and the error leaving the Environment's scope aborts the whole job
//   failure_probe abort [cuda]  rank 1 meets an error of its own, prints it and calls
//                               Environment::abort(5): the whole job ends at once
//   failure_probe save [cuda] PATH  as skip, after a good checkpoint at PATH (copied to PATH.good);
//                               rank 0 then tries to save again: refused, PATH stays the good one
//   failure_probe graph cuda    the all_reduce is captured in a CUDA graph; rank 1 never replays it:
//                               rank 0's replay times out (the watchdog), its next replay is refused
// With "cuda" the tensors live on each rank's GPU (NCCL; a GPU per rank), else on the CPU (MPI).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <nudge/nudge.h>

#include "distributed/distributed.h"

namespace {

int run(const std::string& mode, bool on_gpu, const std::string& path) {
  nudge::distributed::Environment env({.timeout = std::chrono::seconds(2)});
  const nudge::Device device = on_gpu ? env.device() : nudge::Device::cpu();
  if (on_gpu && !device.is_cuda()) {
    std::fprintf(stderr, "rank %d: no GPU for this rank\n", env.rank());
    env.abort(77);
  }
  nudge::nn::Linear model(4, 2);
  nudge::TrainingState state{&model};
  try {
    nudge::Tensor t = nudge::ones({8}, nudge::TensorOptions().device(device));
    env.group().all_reduce(t);  // everyone alive: completes
    if (mode == "save") {
      nudge::distributed::save_checkpoint(env.group(), path, state);
      if (env.rank() == 0) std::filesystem::copy_file(path, path + ".good");
      env.group().barrier();
    }
    if (mode == "graph") {
      nudge::cuda::Graph graph;
      graph.capture([&] { env.group().all_reduce(t); }, device.index());
      if (env.rank() == 1) {
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return 0;
      }
      graph.replay();
      nudge::cuda::synchronize(device.index());  // returns once the watchdog aborted the communicator
      graph.replay();                            // refused: the communicator is gone
      std::printf("rank %d: the replay ran without rank 1 (wrong)\n", env.rank());
      return 0;
    }
    if (env.rank() == 1) {
      if (mode == "exit") std::_Exit(7);
      if (mode == "abort") throw nudge::Error("rank 1's own error");
      std::this_thread::sleep_for(std::chrono::seconds(30));  // "skip", "save": busy elsewhere
      return 0;
    }
    env.group().all_reduce(t).wait();
    std::printf("rank %d: the all_reduce completed without rank 1 (wrong)\n", env.rank());
    return 0;
  } catch (const nudge::Error& e) {
    std::fprintf(stderr, "rank %d: %s\n", env.rank(), e.what());
    if (mode == "abort") env.abort(5);
    if (mode == "save") {
      nudge::NoGradGuard no_grad;
      model.weight.fill_(42);  // what a half-reduced update would leave
      try {
        nudge::distributed::save_checkpoint(env.group(), path, state);
        std::fprintf(stderr, "rank %d: saved after the failure (wrong)\n", env.rank());
      } catch (const nudge::Error& refused) {
        std::fprintf(stderr, "rank %d: save refused: %s\n", env.rank(), refused.what());
      }
    }
    throw;  // leaving the Environment's scope by an exception aborts the job (MPI_Abort)
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool on_gpu = argc > 2 && std::string(argv[2]) == "cuda";
  const std::string path = argc > 2 ? argv[argc - 1] : "";
  try {
    return run(mode, on_gpu, path);
  } catch (const nudge::Error&) {
    return 3;  // not reached on a failing rank: the Environment aborted the job first
  }
}
