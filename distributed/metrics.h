#pragma once
/// Numbers to print in a distributed job -- a loss, a count of correct answers, examples per
/// second -- combined over the ranks first, so rank 0 prints the job's figures, not its own:
///
///   const auto totals = distributed::all_reduce_values(group, {loss_sum, correct, examples});
///   if (env.rank() == 0) std::printf("loss %.4f accuracy %.4f\n", totals[0] / totals[2], totals[1] / totals[2]);
#include <vector>

#include "distributed/process_group.h"

namespace nudge::distributed {

/// The element-wise sum (or average) of every rank's `values`, on every rank: one all-reduce of
/// float64 numbers. Every rank passes as many values (else a DistributedError).
std::vector<double> all_reduce_values(ProcessGroup& group, const std::vector<double>& values,
                                      ReduceOp op = ReduceOp::Sum);

}  // namespace nudge::distributed
