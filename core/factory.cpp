#include "core/factory.h"

#include <cmath>

#include "core/ops_checks.h"

namespace nudge {

namespace {

/// Builds a host tensor of `shape` with `make(i)` for element i, then moves it to the device.
template <class Make> Tensor from_host(const Shape& shape, TensorOptions options, Make make) {
  Tensor host = empty(shape, TensorOptions(options.dtype()));
  visit_dtype(options.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = host.data_ptr<T>();
    for (std::int64_t i = 0; i < host.numel(); ++i) p[i] = make(i, tag);
  });
  return host.to(options.device());
}

}  // namespace

Tensor full(Shape shape, Scalar value, TensorOptions options) {
  Tensor t = empty(std::move(shape), options);
  return t.fill_(value);
}
Tensor zeros(Shape shape, TensorOptions options) { return full(std::move(shape), 0, options); }
Tensor ones(Shape shape, TensorOptions options) { return full(std::move(shape), 1, options); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), TensorOptions(t.dtype()).device(t.device())); }
Tensor zeros_like(const Tensor& t) { return empty_like(t).fill_(0); }
Tensor ones_like(const Tensor& t) { return empty_like(t).fill_(1); }

Tensor arange(std::int64_t end, TensorOptions options) {
  NUDGE_CHECK(end >= 0, "arange: end must be >= 0, got ", end);
  NUDGE_CHECK(options.dtype() != kBool, "arange: not defined for bool");
  return from_host({end}, options, [](std::int64_t i, auto tag) { return static_cast<decltype(tag)>(i); });
}

Tensor arange(double start, double end, double step, TensorOptions options) {
  NUDGE_CHECK(options.dtype() != kBool, "arange: not defined for bool");
  NUDGE_CHECK(step != 0 && std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
              "arange: invalid range start=", start, " end=", end, " step=", step);
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  NUDGE_CHECK(n >= 0, "arange: step ", step, " does not move from ", start, " towards ", end);
  return from_host({n}, options, [&](std::int64_t i, auto tag) {
    return static_cast<decltype(tag)>(start + static_cast<double>(i) * step);
  });
}

Tensor tensor(const std::vector<double>& values, TensorOptions options) {
  return tensor(values, {static_cast<std::int64_t>(values.size())}, options);
}

Tensor tensor(const std::vector<double>& values, Shape shape, TensorOptions options) {
  NUDGE_CHECK(numel_of(shape) == static_cast<std::int64_t>(values.size()), "tensor: ", values.size(),
              " values do not fill shape ", shape_str(shape), " (", numel_of(shape), " elements)");
  return from_host(shape, options, [&](std::int64_t i, auto tag) { return static_cast<decltype(tag)>(values[i]); });
}

template <class T> Tensor from_vector(const std::vector<T>& values, Shape shape, TensorOptions options) {
  NUDGE_CHECK(numel_of(shape) == static_cast<std::int64_t>(values.size()), "from_vector: ", values.size(),
              " values do not fill shape ", shape_str(shape), " (", numel_of(shape), " elements)");
  return from_host(shape, options, [&](std::int64_t i, auto tag) { return static_cast<decltype(tag)>(values[i]); });
}
template Tensor from_vector<float>(const std::vector<float>&, Shape, TensorOptions);
template Tensor from_vector<double>(const std::vector<double>&, Shape, TensorOptions);
template Tensor from_vector<std::int64_t>(const std::vector<std::int64_t>&, Shape, TensorOptions);

Tensor rand(Shape shape, Generator& generator, TensorOptions options) {
  NUDGE_CHECK(is_floating(options.dtype()), "rand: expects a float dtype, got ", options.dtype());
  Tensor host;
  {
    const auto guard = generator.lock();  // one contiguous run of draws per tensor (core/generator.h)
    host = from_host(shape, TensorOptions(options.dtype()), [&](std::int64_t, auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float>) return generator.uniform_float();
      else return static_cast<T>(generator.uniform_double());
    });
  }
  return host.to(options.device());
}
Tensor rand(Shape shape, TensorOptions options) { return rand(std::move(shape), default_generator(), options); }

Tensor randn(Shape shape, Generator& generator, TensorOptions options) {
  NUDGE_CHECK(is_floating(options.dtype()), "randn: expects a float dtype, got ", options.dtype());
  Tensor host;
  {
    const auto guard = generator.lock();
    host = from_host(shape, TensorOptions(options.dtype()),
                     [&](std::int64_t, auto tag) { return static_cast<decltype(tag)>(generator.normal()); });
  }
  return host.to(options.device());
}
Tensor randn(Shape shape, TensorOptions options) { return randn(std::move(shape), default_generator(), options); }

Tensor randperm(std::int64_t n, Generator& generator, TensorOptions options) {
  NUDGE_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  std::vector<std::int64_t> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) values[i] = i;
  {
    const auto guard = generator.lock();
    for (std::int64_t i = n - 1; i > 0; --i)
      std::swap(values[i], values[static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(i) + 1))]);
  }
  return from_vector(values, {n}, TensorOptions(options.dtype())).to(options.device());
}
Tensor randperm(std::int64_t n, TensorOptions options) { return randperm(n, default_generator(), options); }

Tensor randint(std::int64_t low, std::int64_t high, Shape shape, Generator& generator, TensorOptions options) {
  NUDGE_CHECK(low < high, "randint: expected low < high, got low=", low, " high=", high);
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  Tensor host;
  {
    const auto guard = generator.lock();
    host = from_host(shape, TensorOptions(options.dtype()), [&](std::int64_t, auto tag) {
      const auto v = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + generator.below(range));
      return static_cast<decltype(tag)>(v);
    });
  }
  return host.to(options.device());
}
Tensor randint(std::int64_t low, std::int64_t high, Shape shape, TensorOptions options) {
  return randint(low, high, std::move(shape), default_generator(), options);
}

Tensor bernoulli(const Tensor& p, Generator& generator) {
  NUDGE_CHECK(p.defined() && is_floating(p.dtype()), "bernoulli: expects float probabilities, got ",
              p.defined() ? describe(p) : std::string("an undefined tensor"));
  const std::vector<double> probabilities = p.detach().to_vector<double>();
  for (const double q : probabilities)
    NUDGE_CHECK(q >= 0 && q <= 1, "bernoulli: probabilities must be in [0, 1], got ", q);
  Tensor host;
  {
    const auto guard = generator.lock();
    host = from_host(p.shape(), TensorOptions(p.dtype()), [&](std::int64_t i, auto tag) {
      return static_cast<decltype(tag)>(generator.uniform_double() < probabilities[i] ? 1 : 0);
    });
  }
  return host.to(p.device());
}
Tensor bernoulli(const Tensor& p) { return bernoulli(p, default_generator()); }

Tensor bernoulli(Shape shape, double p, Generator& generator, TensorOptions options) {
  NUDGE_CHECK(is_floating(options.dtype()), "bernoulli: expects a float dtype, got ", options.dtype());
  NUDGE_CHECK(p >= 0 && p <= 1, "bernoulli: the probability must be in [0, 1], got ", p);
  Tensor host;
  {
    const auto guard = generator.lock();
    host = from_host(shape, TensorOptions(options.dtype()), [&](std::int64_t, auto tag) {
      return static_cast<decltype(tag)>(generator.uniform_double() < p ? 1 : 0);
    });
  }
  return host.to(options.device());
}

}  // namespace nudge
