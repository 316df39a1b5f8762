#pragma once
/// Activation modules.
#include <string>
#include <utility>

#include "core/ops.h"
#include "nn/module.h"

namespace nudge::nn {

/// The activations a Linear layer fuses into its kernels (core/activation.h).
using nudge::Activation;
using nudge::ActivationSpec;

using nudge::activation;

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
};

/// GELU; approximate "tanh" for the tanh approximation (PyTorch's nn.GELU(approximate=)).
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none") : approximate_(std::move(approximate)) { gelu_check(); }
  Tensor forward(const Tensor& x) override { return gelu(x, approximate_); }

 private:
  void gelu_check() const {
    NUDGE_CHECK(approximate_ == "none" || approximate_ == "tanh",
                "nn::GELU: approximate must be 'none' or 'tanh', got '", approximate_, "'");
  }
  std::string approximate_;
};

class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return silu(x); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, negative_slope_); }

 private:
  double negative_slope_;
};

class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0) : beta_(beta), threshold_(threshold) {}
  Tensor forward(const Tensor& x) override { return softplus(x, beta_, threshold_); }

 private:
  double beta_, threshold_;
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override { return elu(x, alpha_); }

 private:
  double alpha_;
};

class Softmax : public Module {
 public:
  explicit Softmax(std::int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return softmax(x, dim_); }

 private:
  std::int64_t dim_;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(std::int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return log_softmax(x, dim_); }

 private:
  std::int64_t dim_;
};

}  // namespace nudge::nn
