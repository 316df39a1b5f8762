#pragma once
#include <gtest/gtest.h>

#include <nudge/nudge.h>

#include "distributed/distributed.h"
#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {

/// The job's environment (tests/distributed/main.cpp).
extern distributed::Environment* environment;
inline distributed::ProcessGroup& group() { return environment->group(); }
inline int rank() { return environment->rank(); }
inline int world() { return environment->world_size(); }

/// Rank `root`'s `text`, on every rank.
inline std::string broadcast_text(const std::string& text, int root = 0) {
  const Tensor length = from_vector<std::int64_t>({static_cast<std::int64_t>(text.size())}, {});
  group().broadcast(length, root).wait();
  std::vector<std::int64_t> bytes(static_cast<std::size_t>(length.item<std::int64_t>()));
  if (rank() == root) std::copy(text.begin(), text.end(), bytes.begin());
  const Tensor sent = from_vector(bytes, {static_cast<std::int64_t>(bytes.size())});
  group().broadcast(sent, root).wait();
  std::string received;
  for (const std::int64_t byte : sent.to_vector<std::int64_t>()) received += static_cast<char>(byte);
  return received;
}

/// A scratch directory every rank of the job sees (the ranks share this machine's file system):
/// rank 0 makes it, and removes it once every rank is done with it.
class SharedTempDir {
 public:
  SharedTempDir() {
    if (rank() == 0) own_ = std::make_unique<TempDir>();
    path_ = broadcast_text(own_ ? own_->path() : "");
  }
  ~SharedTempDir() { group().barrier(); }
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::unique_ptr<TempDir> own_;
  std::string path_;
};

}  // namespace nudge::testing
