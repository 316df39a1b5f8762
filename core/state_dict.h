#pragma once
/// State dicts: named tensors that save an object's state (a module's parameters, an optimizer's
/// moments, a scheduler's or a data loader's position) and the checked reading of one. Scalars are
/// 0-dim tensors (int64 counters, float64 rates), so a whole training state is one safetensors
/// file (serialization/checkpoint.h).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nudge {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// 0-dim CPU tensors for counters and rates.
Tensor state_scalar(std::int64_t value);
Tensor state_scalar(double value);

/// Reads a state dict, entry by entry, with errors that name `who` and the key: a missing entry,
/// a wrong dtype or shape, and (in finish()) an entry nobody read are all nudge::Errors. Reading
/// changes nothing, so a load checks everything with a reader before it commits any of it.
class StateDictReader {
 public:
  StateDictReader(const NamedTensors& state, std::string who);

  bool has(const std::string& key) const { return entries_.count(key) > 0; }
  /// Keys that start with `prefix`, in order.
  std::vector<std::string> keys_with_prefix(const std::string& prefix) const;
  /// The entry under `key` (required).
  const Tensor& tensor(const std::string& key);
  /// A required 0-dim int64 / float64 entry.
  std::int64_t int64(const std::string& key);
  double float64(const std::string& key);
  /// Checks the "type.<kind>" entry a state_dict() writes to say what saved it.
  void expect_type(const std::string& kind);
  /// Throws naming the first entry that was never read (a state of some other shape of object).
  void finish(const std::string& expected) const;

 private:
  std::map<std::string, Tensor> entries_;
  std::set<std::string> used_;
  std::string who_;
};

}  // namespace nudge
