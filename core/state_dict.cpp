#include "core/state_dict.h"

#include "core/error.h"
#include "core/factory.h"

namespace nudge {

Tensor state_scalar(std::int64_t value) { return full({}, value, kInt64); }
Tensor state_scalar(double value) { return full({}, value, kFloat64); }

StateDictReader::StateDictReader(const NamedTensors& state, std::string who) : who_(std::move(who)) {
  for (const auto& [key, t] : state) {
    NUDGE_CHECK(t.defined(), who_, ": \"", key, "\" is an undefined tensor");
    NUDGE_CHECK(entries_.emplace(key, t).second, who_, ": \"", key, "\" appears twice");
  }
}

std::vector<std::string> StateDictReader::keys_with_prefix(const std::string& prefix) const {
  std::vector<std::string> keys;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.rfind(prefix, 0) == 0; ++it)
    keys.push_back(it->first);
  return keys;
}

const Tensor& StateDictReader::tensor(const std::string& key) {
  const auto it = entries_.find(key);
  NUDGE_CHECK(it != entries_.end(), who_, ": \"", key, "\" is missing");
  used_.insert(key);
  return it->second;
}

std::int64_t StateDictReader::int64(const std::string& key) {
  const Tensor& t = tensor(key);
  NUDGE_CHECK(t.dim() == 0 && t.dtype() == kInt64, who_, ": \"", key, "\" must be one int64 value, got a ",
              describe(t));
  return t.item<std::int64_t>();
}

double StateDictReader::float64(const std::string& key) {
  const Tensor& t = tensor(key);
  NUDGE_CHECK(t.dim() == 0 && t.dtype() == kFloat64, who_, ": \"", key, "\" must be one float64 value, got a ",
              describe(t));
  return t.item<double>();
}

void StateDictReader::expect_type(const std::string& kind) {
  const std::string key = "type." + kind;
  if (has(key)) {
    used_.insert(key);
    return;
  }
  const std::vector<std::string> types = keys_with_prefix("type.");
  NUDGE_FAIL(who_, ": the state was saved by ", types.empty() ? "something unnamed" : types.front().substr(5), ", not ",
             kind);
}

void StateDictReader::finish(const std::string& expected) const {
  for (const auto& [key, t] : entries_)
    NUDGE_CHECK(used_.count(key), who_, ": unexpected entry \"", key, "\" (", expected, " was expected)");
}

}  // namespace nudge
