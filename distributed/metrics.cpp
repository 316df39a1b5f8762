#include "distributed/metrics.h"

#include "core/factory.h"

namespace nudge::distributed {

std::vector<double> all_reduce_values(ProcessGroup& group, const std::vector<double>& values, ReduceOp op) {
  const Tensor numbers = from_vector(values, {static_cast<std::int64_t>(values.size())});
  group.all_reduce(numbers, op).wait();
  return numbers.to_vector<double>();
}

}  // namespace nudge::distributed
