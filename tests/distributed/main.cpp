// The distributed suites run on every rank of `mpirun -np N nudge_distributed_tests` (and as one
// process without mpirun). One Environment for the whole run; rank 0 prints the results, the
// others only their failures; a failure on any rank fails mpirun.
#include <gtest/gtest.h>

#include "distributed_test_util.h"

namespace nudge::testing {
distributed::Environment* environment = nullptr;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Short timeouts: a test that would hang fails instead.
  nudge::distributed::Environment env({.timeout = std::chrono::seconds(60)});
  nudge::testing::environment = &env;
  if (env.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  if (env.rank() == 0) std::printf("nudge distributed tests: %s\n", env.description().c_str());
  const int failed = RUN_ALL_TESTS();
  if (failed && env.rank() != 0) std::fprintf(stderr, "rank %d: a test failed\n", env.rank());
  return failed;
}
