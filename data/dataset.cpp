#include "data/dataset.h"

#include <cstring>

#include "core/error.h"
#include "core/factory.h"
#include "core/ops.h"

namespace nudge::data {

namespace {

Tensor rows_like(const Tensor& t, std::int64_t rows) {
  Shape shape = t.shape();
  shape[0] = rows;
  return empty(shape, TensorOptions(t.dtype()));
}

/// Copies rows `indices` of contiguous `src` into contiguous `dst`, one memcpy per row.
void gather_rows(const Tensor& src, const std::vector<std::int64_t>& indices, Tensor& dst) {
  const std::size_t row_bytes = static_cast<std::size_t>(src.numel() / src.size(0)) * src.element_size();
  const auto* from = static_cast<const unsigned char*>(src.data_ptr());
  auto* to = static_cast<unsigned char*>(dst.data_ptr());
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::memcpy(to + i * row_bytes, from + static_cast<std::size_t>(indices[i]) * row_bytes, row_bytes);
}

void check_destination(const Tensor& dst, const Tensor& like, std::size_t rows, const char* what) {
  Shape expected = like.shape();
  expected[0] = static_cast<std::int64_t>(rows);
  NUDGE_CHECK(dst.defined() && dst.device().is_cpu() && dst.is_contiguous() && dst.dtype() == like.dtype() &&
                  dst.shape() == expected,
              "TensorDataset::gather_into: the ", what, " buffer must be a contiguous CPU ", dtype_name(like.dtype()),
              " tensor of shape ", shape_str(expected), ", got a ", dst.defined() ? describe(dst) : "undefined tensor");
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  NUDGE_CHECK(inputs.defined() && targets.defined(), "TensorDataset: inputs and targets must be defined tensors");
  NUDGE_CHECK(inputs.dim() >= 1 && targets.dim() >= 1,
              "TensorDataset: inputs and targets need a batch dim (dim 0), got a ", describe(inputs), " and a ",
              describe(targets));
  NUDGE_CHECK(inputs.size(0) == targets.size(0), "TensorDataset: inputs have ", inputs.size(0),
              " rows but targets have ", targets.size(0), " (", describe(inputs), ", ", describe(targets), ")");
  NUDGE_CHECK(inputs.device() == targets.device(), "TensorDataset: inputs and targets must be on one device, got a ",
              describe(inputs), " and a ", describe(targets));
  inputs_ = inputs.detach().contiguous();
  targets_ = targets.detach().contiguous();
}

void TensorDataset::gather_into(const std::vector<std::int64_t>& indices, Tensor& input_out, Tensor& target_out) const {
  NUDGE_CHECK(device().is_cpu(), "TensorDataset::gather_into: the data set is on ", device(),
              "; gather it there with get(indices)");
  check_destination(input_out, inputs_, indices.size(), "input");
  check_destination(target_out, targets_, indices.size(), "target");
  for (std::int64_t i : indices)
    NUDGE_CHECK(i >= 0 && i < size(), "TensorDataset: index ", i, " is out of range for ", size(), " examples");
  gather_rows(inputs_, indices, input_out);
  gather_rows(targets_, indices, target_out);
}

Batch TensorDataset::get(const std::vector<std::int64_t>& indices) const {
  const auto rows = static_cast<std::int64_t>(indices.size());
  if (!device().is_cpu()) return get(from_vector(indices, {rows}, TensorOptions(kInt64).device(device())));
  Batch batch{rows_like(inputs_, rows), rows_like(targets_, rows)};
  gather_into(indices, batch.input, batch.target);
  return batch;
}

Batch TensorDataset::get(const Tensor& indices) const {
  // index_select checks the range (a min and a max on the device: one synchronisation per batch).
  return {index_select(inputs_, 0, indices), index_select(targets_, 0, indices)};
}

Batch TensorDataset::slice(std::int64_t start, std::int64_t length) const {
  return {inputs_.narrow(0, start, length), targets_.narrow(0, start, length)};
}

}  // namespace nudge::data
