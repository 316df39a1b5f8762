#pragma once
/// Tensor creation, named as in PyTorch's C++ API.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace nudge {

Tensor zeros(Shape shape, TensorOptions options = {});
Tensor ones(Shape shape, TensorOptions options = {});
Tensor full(Shape shape, Scalar value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
/// 0, 1, ..., end-1 (int64 by default, as in PyTorch).
Tensor arange(std::int64_t end, TensorOptions options = kInt64);
/// start, start+step, ... < end.
Tensor arange(double start, double end, double step = 1, TensorOptions options = kFloat32);

/// A 1-D tensor from values: `tensor({1, 2, 3})`, `tensor({1, 2}, kFloat64)`.
Tensor tensor(const std::vector<double>& values, TensorOptions options = {});
/// A tensor of `shape` from row-major values: `tensor({1, 2, 3, 4}, {2, 2})`.
Tensor tensor(const std::vector<double>& values, Shape shape, TensorOptions options = {});
/// The same with the shape written in braces, so that `tensor({3.0}, {})` is a 0-d tensor (with
/// only the Shape overload, `{}` could also be TensorOptions and would not compile).
inline Tensor tensor(const std::vector<double>& values, std::initializer_list<std::int64_t> shape,
                     TensorOptions options = {}) {
  return tensor(values, Shape(shape), options);
}
/// Exact construction from typed data (int64 beyond 2^53, say); dtype follows T unless given.
template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape, TensorOptions options = TensorOptions(dtype_of<T>()));

/// Uniform in [0, 1). Drawn on the host: the same generator state gives the same values on
/// every device.
Tensor rand(Shape shape, Generator& generator, TensorOptions options = {});
Tensor rand(Shape shape, TensorOptions options = {});
/// Standard normal.
Tensor randn(Shape shape, Generator& generator, TensorOptions options = {});
Tensor randn(Shape shape, TensorOptions options = {});

/// A random permutation of 0 .. n−1 (int64 by default), drawn on the host (Fisher–Yates).
Tensor randperm(std::int64_t n, Generator& generator, TensorOptions options = kInt64);
Tensor randperm(std::int64_t n, TensorOptions options = kInt64);
/// Integers uniform in [low, high) (int64 by default), without modulo bias.
Tensor randint(std::int64_t low, std::int64_t high, Shape shape, Generator& generator, TensorOptions options = kInt64);
Tensor randint(std::int64_t low, std::int64_t high, Shape shape, TensorOptions options = kInt64);
/// 1 with probability p[i], else 0, in p's dtype and on p's device (p in [0, 1], float).
Tensor bernoulli(const Tensor& p, Generator& generator);
Tensor bernoulli(const Tensor& p);
/// 1 with probability p, else 0, of `shape`.
Tensor bernoulli(Shape shape, double p, Generator& generator, TensorOptions options = {});

extern template Tensor from_vector<float>(const std::vector<float>&, Shape, TensorOptions);
extern template Tensor from_vector<double>(const std::vector<double>&, Shape, TensorOptions);
extern template Tensor from_vector<std::int64_t>(const std::vector<std::int64_t>&, Shape, TensorOptions);

}  // namespace nudge
