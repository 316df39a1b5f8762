#pragma once
/// data::TensorDataset: examples are the rows (dim 0) of an input tensor and a target tensor,
/// as torch.utils.data.TensorDataset. Both live on one device. On the CPU, a DataLoader gathers
/// rows into (pinned) host batches and copies them to the training device; a data set that fits
/// in GPU memory can live there instead (`TensorDataset(x.cuda(), y.cuda())`), and batches are
/// then gathered on the GPU with index_select: no host copy per batch.
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
  /// `inputs` [N, ...] and `targets` [N, ...], on one device, with the same N.
  TensorDataset(Tensor inputs, Tensor targets);

  std::int64_t size() const { return inputs_.size(0); }
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  Device device() const { return inputs_.device(); }
  /// Rows `indices` of a CPU data set, gathered into the given (contiguous, CPU) tensors of
  /// shape [indices.size(), ...] — the DataLoader passes its reusable (pinned) buffers here.
  void gather_into(const std::vector<std::int64_t>& indices, Tensor& input_out, Tensor& target_out) const;
  /// Rows `indices` as a new batch on the data set's device.
  Batch get(const std::vector<std::int64_t>& indices) const;
  /// Rows `indices` (an int64 tensor on the data set's device) gathered there with index_select.
  Batch get(const Tensor& indices) const;
  /// Examples [start, start + length) as a batch of views (no copy).
  Batch slice(std::int64_t start, std::int64_t length) const;

 private:
  Tensor inputs_;   // contiguous
  Tensor targets_;  // contiguous
};

}  // namespace nudge::data
