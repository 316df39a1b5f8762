#pragma once
/// A number passed to an op (`t + 2`, `fill_(0.5)`) that keeps int64 values exact.
#include <cstdint>
#include <type_traits>

namespace nudge {

class Scalar {
 public:
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : f_(static_cast<double>(v)), i_(0), is_int_(false) {}  // NOLINT
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  Scalar(T v) : f_(static_cast<double>(v)), i_(static_cast<std::int64_t>(v)), is_int_(true) {}  // NOLINT

  /// The value as element type T (exact for int64 when constructed from an integer).
  template <class T> T to() const {
    if constexpr (std::is_same_v<T, bool>) {
      return is_int_ ? i_ != 0 : f_ != 0;  // nonzero, NaN included, is true
    } else if constexpr (std::is_integral_v<T>) {
      if (is_int_) return static_cast<T>(i_);
      // Out-of-range doubles saturate and NaN gives 0 (the float -> int64 rule of kernels/functors.h);
      // callers that must refuse them (fill_) check first.
      if (f_ != f_) return T(0);
      if (f_ >= 9223372036854775808.0) return static_cast<T>(INT64_MAX);
      if (f_ < -9223372036854775808.0) return static_cast<T>(INT64_MIN);
      return static_cast<T>(static_cast<std::int64_t>(f_));
    } else return static_cast<T>(f_);
  }
  double to_double() const { return f_; }
  bool is_integral() const { return is_int_; }

 private:
  double f_;
  std::int64_t i_;
  bool is_int_;
};

}  // namespace nudge
