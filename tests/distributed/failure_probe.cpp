// A job in which rank 1 fails, for failing_rank.sh: the other ranks must stop with a clear error
// within a timeout, never hang.
//   failure_probe exit   rank 1 exits (without MPI_Finalize) before an all_reduce the others wait in
//   failure_probe skip   rank 1 never calls that all_reduce: the others' wait times out (2 s), and the
//                        error leaving the Environment's scope aborts the whole job (rank 1 included)
//   failure_probe abort  rank 1 meets an error of its own, prints it and calls Environment::abort(5):
//                        the whole job ends at once (rank 0 never reaches its timeout)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <nudge/nudge.h>

#include "distributed/distributed.h"

namespace {

int run(const std::string& mode) {
  nudge::distributed::Environment env({.timeout = std::chrono::seconds(2)});
  try {
    nudge::Tensor t = nudge::ones({8});
    env.group().all_reduce(t);  // everyone alive: completes
    if (env.rank() == 1) {
      if (mode == "exit") std::_Exit(7);
      if (mode == "abort") throw nudge::Error("rank 1's own error");
      std::this_thread::sleep_for(std::chrono::seconds(30));  // "skip": busy elsewhere
      return 0;
    }
    env.group().all_reduce(t);
    std::printf("rank %d: the all_reduce completed without rank 1 (wrong)\n", env.rank());
    return 0;
  } catch (const nudge::Error& e) {
    std::fprintf(stderr, "rank %d: %s\n", env.rank(), e.what());
    if (mode == "abort") env.abort(5);
    throw;  // leaving the Environment's scope by an exception aborts the job (MPI_Abort)
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? argv[1] : "");
  } catch (const nudge::Error&) {
    return 3;  // not reached on a failing rank: the Environment aborted the job first
  }
}
