#include "core/generator.h"

#include <bit>
#include <cmath>
#include <numbers>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/factory.h"
#include "core/tensor.h"

namespace nudge {

double Generator::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - uniform_double(), u2 = uniform_double();
  const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

namespace {

/// The engine's textual state (the standard's only portable access to it) as numbers.
std::vector<std::uint64_t> engine_words(const std::mt19937_64& engine) {
  std::ostringstream text;
  text << engine;
  std::istringstream in(text.str());
  std::vector<std::uint64_t> words;
  for (std::uint64_t w = 0; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

Tensor Generator::get_state() {
  const std::lock_guard<std::mutex> guard(mutex_);
  std::vector<std::uint64_t> words = engine_words(engine_);
  words.push_back(has_spare_normal_ ? 1 : 0);
  words.push_back(std::bit_cast<std::uint64_t>(spare_normal_));
  std::vector<std::int64_t> as_int64(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) as_int64[i] = std::bit_cast<std::int64_t>(words[i]);
  return from_vector(as_int64, {static_cast<std::int64_t>(as_int64.size())});
}

void Generator::set_state(const Tensor& state) {
  const std::size_t expected = engine_words(std::mt19937_64()).size() + 2;
  NUDGE_CHECK_AS(FormatError,
                 state.defined() && state.dtype() == kInt64 && state.dim() == 1 &&
                     static_cast<std::size_t>(state.numel()) == expected,
                 "Generator::set_state: expected an int64 tensor of ", expected, " words from get_state(), got ",
                 state.defined() ? describe(state) : std::string("an undefined tensor"));
  const std::vector<std::int64_t> words = state.to_vector<std::int64_t>();
  std::ostringstream text;
  for (std::size_t i = 0; i + 2 < words.size(); ++i) text << std::bit_cast<std::uint64_t>(words[i]) << ' ';
  std::istringstream in(text.str());
  std::mt19937_64 engine;
  in >> engine;
  // The text is the state's words then the position within them (libstdc++); a position past the
  // words would make the next draw read outside the engine, so a hostile file is stopped here.
  const std::uint64_t position = std::bit_cast<std::uint64_t>(words[expected - 3]);
  const std::int64_t spare_flag = words[expected - 2];
  NUDGE_CHECK_AS(FormatError,
                 !in.fail() && expected == std::mt19937_64::state_size + 3 && position <= std::mt19937_64::state_size &&
                     (spare_flag == 0 || spare_flag == 1) && std::isfinite(std::bit_cast<double>(words[expected - 1])),
                 "Generator::set_state: the state is not one get_state() gave (position ", position,
                 ", kept-normal flag ", spare_flag, ")");
  const std::lock_guard<std::mutex> guard(mutex_);
  engine_ = engine;
  has_spare_normal_ = spare_flag == 1;
  spare_normal_ = std::bit_cast<double>(words[expected - 1]);
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace nudge
