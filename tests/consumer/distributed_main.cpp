#include <cstdio>

#include <nudge/distributed/distributed.h>

// Run without mpirun: a world of one, where an all-reduce gives back what it was given.
int main() {
  nudge::distributed::Environment env;
  const std::vector<double> totals = nudge::distributed::all_reduce_values(env.group(), {1.5, 2.5});
  std::printf("consumer_distributed: %s, totals %g %g\n", env.description().c_str(), totals[0], totals[1]);
  return env.world_size() == 1 && totals == std::vector<double>{1.5, 2.5} ? 0 : 1;
}
