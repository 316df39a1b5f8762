#pragma once
/// Element types. Adding a dtype means adding it here and to `visit_dtype`; every kernel is
/// instantiated through that one switch (arithmetic kernels through kernels/calls.h's
/// visit_numeric_dtype, which leaves bool out: bool tensors hold masks, not numbers).
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <type_traits>

namespace nudge {

enum class DType : std::uint8_t { Float32, Float64, Int64, Bool };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kBool = DType::Bool;

/// Size of one element in bytes.
constexpr std::size_t itemsize(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

inline std::ostream& operator<<(std::ostream& out, DType t) { return out << dtype_name(t); }

/// The DType of a C++ element type.
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

/// Calls `f(T{})` with the C++ type of `t`: `visit_dtype(t, [&](auto tag) { using T = decltype(tag); ... })`.
/// Every dtype, bool included: for code that moves, converts or selects elements.
template <class F> decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Bool: return f(bool{});
    case DType::Int64: break;
  }
  return f(std::int64_t{});
}

}  // namespace nudge
