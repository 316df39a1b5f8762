#include "distributed/checkpoint.h"

#include "core/factory.h"

#include <exception>
#include <optional>

namespace nudge::distributed {
namespace {

/// What went wrong on one rank of a collective step.
struct Failure {
  int rank;
  std::string message;
};

/// Every rank says how its part went (`error`: empty for success); every rank learns the first
/// rank that failed and that rank's message, or that none did.
std::optional<Failure> first_failure(ProcessGroup& group, const std::string& error) {
  const Tensor failed = from_vector<std::int64_t>({error.empty() ? 0 : 1}, {});
  const std::vector<std::int64_t> outcomes = group.all_gather(failed).to_vector<std::int64_t>();
  int rank = 0;
  while (rank < group.size() && outcomes[static_cast<std::size_t>(rank)] == 0) ++rank;
  if (rank == group.size()) return std::nullopt;
  // That rank's message, as one int64 per byte (short texts; the ranks learn its length first).
  constexpr std::size_t kLongest = 2000;
  const std::string sent = error.substr(0, kLongest);
  const Tensor length = from_vector<std::int64_t>({static_cast<std::int64_t>(sent.size())}, {});
  group.broadcast(length, rank).wait();
  const std::int64_t n = length.item<std::int64_t>();
  std::vector<std::int64_t> bytes(static_cast<std::size_t>(n));
  if (group.rank() == rank)
    for (std::size_t i = 0; i < sent.size(); ++i) bytes[i] = static_cast<unsigned char>(sent[i]);
  const Tensor text = from_vector(bytes, {n});
  group.broadcast(text, rank).wait();
  std::string message;
  for (const std::int64_t byte : text.to_vector<std::int64_t>()) message += static_cast<char>(byte);
  return Failure{rank, message};
}

/// Runs `part` on this rank (or not), then agrees with the others on the outcome: returns when every
/// rank succeeded; else this rank rethrows its own error, or throws one naming the rank that failed.
template <class Part> void everywhere_or_nowhere(ProcessGroup& group, const std::string& what, Part part) {
  std::exception_ptr mine;
  std::string error;
  try {
    part();
  } catch (const std::exception& e) {
    mine = std::current_exception();
    error = e.what();
  }
  const std::optional<Failure> failure = first_failure(group, error);
  if (mine) std::rethrow_exception(mine);
  if (failure)
    throw DistributedError(what + ": rank " + std::to_string(failure->rank) + " failed (" + failure->message +
                           "); stopping on rank " + std::to_string(group.rank()) + " too");
}

}  // namespace

void save_checkpoint(ProcessGroup& group, const std::string& path, const TrainingState& state) {
  const std::string what = "distributed::save_checkpoint(\"" + path + "\")";
  // A collective that failed on any rank (an aborted NCCL communicator) leaves the state it was
  // part of half-reduced: every rank must be healthy before rank 0 may replace the last good file.
  everywhere_or_nowhere(group, what, [&] { group.check_healthy(); });
  everywhere_or_nowhere(group, what, [&] {
    if (group.rank() == 0) nudge::save_checkpoint(path, state);
  });
}

std::string load_checkpoint(ProcessGroup& group, const std::string& path, TrainingState& state) {
  std::string account;
  everywhere_or_nowhere(group, "distributed::load_checkpoint(\"" + path + "\")",
                        [&] { account = nudge::load_checkpoint(path, state); });
  // The same point of the run everywhere: [rank][epoch, step].
  const Tensor position = from_vector<std::int64_t>({state.epoch, state.step}, {2});
  const std::vector<std::int64_t> all = group.all_gather(position).to_vector<std::int64_t>();
  for (int r = 1; r < group.size(); ++r) {
    const auto at = static_cast<std::size_t>(2 * r);
    if (all[at] != all[0] || all[at + 1] != all[1])
      throw DistributedError("distributed::load_checkpoint(\"" + path +
                             "\"): the ranks restored different points "
                             "of the run: rank 0 epoch " +
                             std::to_string(all[0]) + " step " + std::to_string(all[1]) + ", rank " +
                             std::to_string(r) + " epoch " + std::to_string(all[at]) + " step " +
                             std::to_string(all[at + 1]) + " (not the same file on every node?)");
  }
  return account;
}

}  // namespace nudge::distributed
