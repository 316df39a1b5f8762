#pragma once
/// nn::Embedding: a lookup table of `num_embeddings` vectors of `embedding_dim`, indexed by an
/// int64 tensor of any shape (output: the index's shape + [embedding_dim]). A gather on the
/// table's device (index_select), so the backward scatter-adds into the rows used.
#include <optional>

#include "core/generator.h"
#include "nn/module.h"

namespace nudge::nn {

class Embedding : public Module {
 public:
  /// Weight ~ N(0, 1) as in PyTorch; the `padding_idx` row (negative counts from the end) starts
  /// at zero and never receives a gradient.
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, std::optional<std::int64_t> padding_idx = {},
            Generator* generator = nullptr);
  Tensor forward(const Tensor& indices) override;

  Tensor weight;  // [num_embeddings, embedding_dim]

 private:
  std::optional<std::int64_t> padding_idx_;
};

}  // namespace nudge::nn
