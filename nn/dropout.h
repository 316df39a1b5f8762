#pragma once
/// nn::Dropout: in training, each element is zeroed with probability p and the rest scaled by
/// 1/(1 − p) (inverted dropout, so eval needs no rescaling); in eval, the identity.
#include "core/generator.h"
#include "nn/module.h"

namespace nudge::nn {

class Dropout : public Module {
 public:
  /// `generator`: where the masks are drawn from (null: the default generator, seeded by
  /// nudge::manual_seed). Masks are drawn on the host and copied to the input's device.
  explicit Dropout(double p = 0.5, Generator* generator = nullptr);
  Tensor forward(const Tensor& x) override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* generator_;
};

/// nn::Dropout2d: zeroes whole channels of [N, C, H, W] (or [C, H, W]) inputs with probability p,
/// the rest scaled by 1/(1 − p); the identity in eval.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5, Generator* generator = nullptr);
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
  Generator* generator_;
};

/// The function behind nn::Dropout2d: one mask value per channel.
Tensor dropout2d(const Tensor& x, double p, bool training, Generator& generator = default_generator());

/// The function behind nn::Dropout: x·mask/(1 − p) when `training`, x otherwise.
Tensor dropout(const Tensor& x, double p, bool training, Generator& generator = default_generator());

}  // namespace nudge::nn
