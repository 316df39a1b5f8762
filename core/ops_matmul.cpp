// matmul: shape rules and operand layout. Transposed views go to BLAS/cuBLAS as a transpose
// flag instead of being copied.
#include <algorithm>

#include "core/autograd/node.h"
#include "kernels/dispatch.h"
#include "core/ops.h"
#include "core/ops_checks.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

/// How BLAS can read the last two dims of `m` (a 2-D or 3-D tensor) without a copy, if it can.
bool describe_matrix(const Tensor& m, MatrixArg& arg) {
  const std::int64_t rows = m.size(-2), cols = m.size(-1);
  const std::int64_t sr = m.stride(-2), sc = m.stride(-1);
  arg.data = m.data_ptr();
  arg.batch_stride = m.dim() == 3 && m.size(0) > 1 ? m.stride(0) : 0;
  // Size-1 dims have meaningless strides; pick the leading dimension BLAS would expect.
  if (sc == 1 || cols == 1) {
    arg.transposed = false;
    arg.ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : sr;
    if (arg.ld >= std::max<std::int64_t>(cols, 1)) return true;
  }
  if (sr == 1 || rows == 1) {
    arg.transposed = true;
    arg.ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : sc;
    if (arg.ld >= std::max<std::int64_t>(rows, 1)) return true;
  }
  return false;
}

MatrixArg matrix_arg(const Tensor& m, Tensor& keep_alive) {
  MatrixArg arg{};
  if (describe_matrix(m, arg)) return arg;
  keep_alive = m.contiguous();
  describe_matrix(keep_alive, arg);
  return arg;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_same_device_and_dtype(a, b, "matmul");
  detail::check_floating(a, "matmul");
  NUDGE_CHECK(a.dim() >= 1 && a.dim() <= 3 && b.dim() >= 1 && b.dim() <= 3,
              "matmul: supports 1-D, 2-D and 3-D operands, got a ", describe(a), " and a ", describe(b));
  // 1-D operands become a row (left) or a column (right) and the extra dim is dropped afterwards.
  if (a.dim() == 1 && b.dim() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);

  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  NUDGE_CHECK(b.size(-2) == k, "matmul: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " cannot be multiplied (", k, " columns vs ", b.size(-2), " rows)");
  const std::int64_t batch_a = a.dim() == 3 ? a.size(0) : 1, batch_b = b.dim() == 3 ? b.size(0) : 1;
  NUDGE_CHECK(batch_a == batch_b || batch_a == 1 || batch_b == 1, "matmul: batch sizes of ", shape_str(a.shape()),
              " and ", shape_str(b.shape()), " do not broadcast (", batch_a, " vs ", batch_b, ")");
  const std::int64_t batch = batch_a == 1 ? batch_b : batch_a;  // a batch of 0 broadcasts too
  Shape out_shape = a.dim() == 3 || b.dim() == 3 ? Shape{batch, m, n} : Shape{m, n};
  Tensor out = empty(out_shape, TensorOptions(a.dtype()).device(a.device()));
  if (out.numel() > 0 && k == 0) out.fill_(0);
  if (out.numel() > 0 && k > 0) {
    Tensor a_copy, b_copy;
    MatmulCall call{a.dtype(), batch, m, n, k, matrix_arg(a, a_copy), matrix_arg(b, b_copy), out.data_ptr()};
    dispatch::matmul.run(a.device(), "matmul", call);
  }
  // dA = dC·Bᵀ, dB = Aᵀ·dC; a matrix shared across the batch gets a batched gradient that the
  // engine sums over the batch.
  NUDGE_RECORD("matmul", out, (&a, &b),
               [a_ = autograd::SavedTensor(a, "matmul"), b_ = autograd::SavedTensor(b, "matmul")](const Tensor& g) {
                 return autograd::Grads{matmul(g, b_.get().transpose(-1, -2)), matmul(a_.get().transpose(-1, -2), g)};
               });
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const { return nudge::matmul(*this, other); }

}  // namespace nudge
