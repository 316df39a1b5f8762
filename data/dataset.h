#pragma once
/// data::TensorDataset: examples are the rows (dim 0) of an input tensor and a target tensor,
/// as torch.utils.data.TensorDataset. Both live in host memory; a DataLoader gathers rows into
/// batches and moves them to the training device.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace nudge::data {

/// A batch of examples: inputs stacked along dim 0, targets likewise.
struct Batch {
  Tensor input;
  Tensor target;
};

class TensorDataset {
 public:
  /// `inputs` [N, ...] and `targets` [N, ...], on the CPU, with the same N.
  TensorDataset(Tensor inputs, Tensor targets);

  std::int64_t size() const { return inputs_.size(0); }
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  /// Rows `indices` of inputs and targets, gathered into the given (contiguous, CPU) tensors of
  /// shape [indices.size(), ...] — the DataLoader passes its reusable (pinned) buffers here.
  void gather_into(const std::vector<std::int64_t>& indices, Tensor& input_out, Tensor& target_out) const;
  /// Rows `indices` as a new batch on the CPU.
  Batch get(const std::vector<std::int64_t>& indices) const;
  /// Examples [start, start + length) as a batch of views (no copy).
  Batch slice(std::int64_t start, std::int64_t length) const;

 private:
  Tensor inputs_;   // contiguous
  Tensor targets_;  // contiguous
};

}  // namespace nudge::data
