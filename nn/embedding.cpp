#include "nn/embedding.h"

#include "core/autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "nn/init.h"

namespace nudge::nn {

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, std::optional<std::int64_t> padding_idx,
                     Generator* generator) {
  NUDGE_CHECK(num_embeddings > 0 && embedding_dim > 0, "nn::Embedding: sizes must be positive, got ", num_embeddings,
              " x ", embedding_dim);
  if (padding_idx) {
    NUDGE_CHECK(*padding_idx >= -num_embeddings && *padding_idx < num_embeddings, "nn::Embedding: padding_idx ",
                *padding_idx, " must be within num_embeddings (", num_embeddings, ")");
    padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
  }
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  init::normal_(weight, 0, 1, generator != nullptr ? *generator : default_generator());
  if (padding_idx_) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx_).zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  NUDGE_CHECK(indices.defined() && indices.dtype() == kInt64, "nn::Embedding: expected int64 indices, got ",
              indices.defined() ? describe(indices) : std::string("an undefined tensor"));
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  Tensor rows = index_select(weight, 0, indices.reshape({-1}));
  if (padding_idx_) {
    // The padding rows' values as they are, their gradient cut: where(not padding, rows, rows.detach()).
    const Tensor not_padding = ne(indices.reshape({-1, 1}), *padding_idx_);
    rows = where(not_padding, rows, rows.detach());
  }
  return rows.reshape(out_shape);
}

}  // namespace nudge::nn
