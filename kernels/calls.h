#pragma once
/// The plain-data contract between core/ops and the backends in kernels/: each struct describes
/// one unit of work (pointers, sizes, strides) with no Tensor in sight, so kernels never depend on
/// the Tensor class or on autograd, and the same struct is passed by value to a CUDA kernel.
#include <cstdint>

#include "core/activation.h"
#include "core/error.h"
#include "core/dtype.h"
#include "core/scalar.h"
#include "kernels/unary_ops.h"

namespace nudge::kernels {

/// visit_dtype for the float dtypes, the one switch every float-only backend entry goes through:
/// calls `f(float{})` or `f(double{})`; an int64 or bool call (core rejects those first) is an
/// error naming `what`.
template <class F> void visit_float_dtype(DType t, const char* what, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64:
    case DType::Bool: break;
  }
  NUDGE_FAIL(what, ": ", dtype_name(t), " is not supported");
}

/// visit_dtype for the dtypes that hold numbers (not bool), the switch every arithmetic backend
/// entry goes through; a bool call (core converts or rejects those first) is an error naming `what`.
template <class F> void visit_numeric_dtype(DType t, const char* what, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(std::int64_t{});
    case DType::Bool: break;
  }
  NUDGE_FAIL(what, ": bool is not supported");
}

/// Most dims an elementwise loop handles after coalescing (PyTorch allows 25; 8 covers every
/// model here and keeps the CUDA kernel argument small).
inline constexpr int kMaxDims = 8;

/// N strided operands walked in lock-step over the same logical shape; operand 0 is the output.
/// Strides are in elements (0 for a broadcast dim); data pointers already include the offset.
template <int N> struct StridedLoop {
  std::int64_t numel = 0;
  int ndim = 0;
  bool contiguous = false;  // every operand is dense and in row-major order: index i is element i
  // Only the first `ndim` entries mean anything, and only they are set: zeroing all of them on
  // every elementwise op cost more than the arithmetic of a 4-element one.
  std::int64_t sizes[kMaxDims];
  std::int64_t strides[N][kMaxDims];
  void* data[N] = {};
};

#define NUDGE_UNARY_ENUM(Op, name, functor, float_only) Op,
enum class UnaryOp : std::uint8_t { NUDGE_UNARY_OPS(NUDGE_UNARY_ENUM) };
#undef NUDGE_UNARY_ENUM
/// The op's name in messages ("sigmoid"), and whether it takes int64 tensors.
inline const char* unary_name(UnaryOp op) {
  switch (op) {
#define NUDGE_UNARY_NAME(Op, name, functor, float_only) \
  case UnaryOp::Op: return name;
    NUDGE_UNARY_OPS(NUDGE_UNARY_NAME)
#undef NUDGE_UNARY_NAME
  }
  return "unary";
}
inline bool unary_takes_int64(UnaryOp op) {
  switch (op) {
#define NUDGE_UNARY_INT(Op, name, functor, float_only) \
  case UnaryOp::Op: return !(float_only);
    NUDGE_UNARY_OPS(NUDGE_UNARY_INT)
#undef NUDGE_UNARY_INT
  }
  return false;
}
enum class BinaryOp : std::uint8_t { Add, Sub, Mul, Div, Maximum, Minimum };
/// Predicates with a bool result: comparisons, and the logical connectives, which treat any
/// nonzero value (NaN included) as true.
enum class CompareOp : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor };
enum class ReduceOp : std::uint8_t { Sum, Max, Min };

/// out = op(in) elementwise; `scalar` is the exponent for Pow.
struct UnaryCall {
  UnaryOp op;
  DType dtype;
  Scalar scalar = 0;
  StridedLoop<2> loop;  // {out, in}
};

/// out = op(a, b) elementwise, both operands tensors broadcast to out's shape.
struct BinaryCall {
  BinaryOp op;
  DType dtype;
  StridedLoop<3> loop;  // {out, a, b}
};

/// out = op(in, scalar), or op(scalar, in) when scalar_first.
struct BinaryScalarCall {
  BinaryOp op;
  DType dtype;
  Scalar scalar;
  bool scalar_first = false;
  StridedLoop<2> loop;  // {out, in}
};

/// out = op(a, b) elementwise into a bool `out`; a and b of `dtype`, broadcast to out's shape.
struct CompareCall {
  CompareOp op;
  DType dtype;
  StridedLoop<3> loop;  // {out, a, b}
};

/// out = op(in, scalar) into a bool `out` (the scalar is always the right-hand side: core swaps
/// `2 < x` into `x > 2`).
struct CompareScalarCall {
  CompareOp op;
  DType dtype;
  Scalar scalar;
  StridedLoop<2> loop;  // {out, in}
};

/// Gather or scatter-add along one dim, walking the index's shape. `dim_stride` is the indexed
/// tensor's stride along that dim; its operand in `loop` has stride 0 there, so each element's
/// offset is the operand's plus index·dim_stride. Indices were checked in range by core.
///   Gather:     loop {out, index, self}:   out = self[· + index·dim_stride]
///   ScatterAdd: loop {target, index, src}: target[· + index·dim_stride] += src (CUDA: atomics)
enum class IndexOp : std::uint8_t { Gather, ScatterAdd };
struct IndexCall {
  IndexOp op;
  DType dtype;
  std::int64_t dim_stride;
  StridedLoop<3> loop;  // the index operand is int64
};

/// Sliding windows over the last two dims of an image of planes p = (n, c), [N, C, H, W] (im2col
/// and its adjoint col2im), the one kernel under unfold/fold, convolutions and pooling:
///   Unfold: cols[n, c, k, l] = image[n, c, h, w], or pad_value where (h, w) is outside the image
///   Fold:   image[n, c, h, w] = Σ cols[n, c, k, l] over the (k, l) whose window reads (h, w)
/// with window position k = ki·kW + kj, output position l = oh·oW + ow, and
/// h = oh·stride_h − pad_h + ki·dilation_h (w likewise). Both sides are addressed through element
/// strides, so the caller picks the layout of cols: [N, C·kk, L] (unfold), [N, L, C·kk] (rows of a
/// convolution's GEMM) or [N, C, L, kk] (pooling). Fold writes every image element once (a gather:
/// deterministic, no atomics).
struct WindowCall {
  bool fold;
  DType dtype;
  void* image;  // read by Unfold, written by Fold
  void* cols;   // written by Unfold, read by Fold
  std::int64_t batch, channels, height, width;
  std::int64_t image_strides[4];  // n, c, h, w
  std::int64_t kernel[2], stride[2], padding[2], dilation[2], out_size[2];
  std::int64_t cols_strides[4];  // n, c, k, l
  double pad_value;

  std::int64_t window() const { return kernel[0] * kernel[1]; }
  std::int64_t positions() const { return out_size[0] * out_size[1]; }
};

/// out = cond ? a : b elementwise (cond nonzero, NaN included, is true); a, b, out of `dtype`,
/// cond of `cond_dtype`, all broadcast to out's shape.
struct WhereCall {
  DType dtype;
  DType cond_dtype;
  StridedLoop<4> loop;  // {out, cond, a, b}
};

/// out = in converted to out's dtype (same device); also used for contiguous() and copy_.
struct CopyCall {
  DType dst_dtype;
  DType src_dtype;
  StridedLoop<2> loop;  // {dst, src}
};

/// out = value for every element.
struct FillCall {
  DType dtype;
  Scalar value;
  StridedLoop<1> loop;
};

/// Reduces a dense row-major [outer, reduce, inner] input over its middle axis into [outer, inner].
/// `indices` (may be null) receives the argmax for Max, the argmin for Min.
struct ReduceCall {
  ReduceOp op;
  DType dtype;
  const void* in;
  void* out;
  std::int64_t* indices;
  std::int64_t outer, reduce, inner;
};

/// One side of a GEMM: a row-major [rows, cols] matrix, possibly transposed in memory
/// (element (r, c) at r*ld + c, or at c*ld + r when `transposed`), repeated every `batch_stride`
/// elements (0 broadcasts one matrix over the batch).
struct MatrixArg {
  const void* data;
  std::int64_t ld;
  std::int64_t batch_stride;
  bool transposed;
};

/// c[b] = a[b] @ b[b] for b in [0, batch); c is dense row-major [m, n] per batch.
struct MatmulCall {
  DType dtype;
  std::int64_t batch, m, n, k;
  MatrixArg a, b;
  void* c;
};

/// Dense forward epilogue, in place over a dense row-major [rows, cols] matrix Z = X·Wᵀ:
/// y = act(z + bias[col]); `bias` may be null. When `z_out` is set (an activation whose gradient
/// needs its input), z + bias is also written there, dense like y.
struct BiasActivationCall {
  DType dtype;
  ActivationSpec act;
  std::int64_t rows, cols;
  void* y;
  const void* bias;
  void* z_out = nullptr;
};

/// Dense backward prologue, one pass: grad_z = grad_y ⊙ act'(·) with act' written in terms of
/// the layer's output y where it can be (σ' = y(1−y), tanh' = 1−y², relu' = [y>0]) and of its
/// input z otherwise (GELU, SiLU, Softplus, ELU); and, when `grad_bias` is set,
/// grad_bias[col] = Σ_rows grad_z. All dense row-major [rows, cols] (grad_bias: [cols]).
struct ActivationBackwardCall {
  DType dtype;
  ActivationSpec act;
  std::int64_t rows, cols;
  const void* grad_y;
  const void* y;
  void* grad_z;
  void* grad_bias;
  /// The activation's input z, for an activation whose gradient needs it
  /// (fn::activation_grad_needs_input); null otherwise.
  const void* z = nullptr;
};

/// A loss and its input gradient in one pass. MSE and BCE-with-logits are elementwise over
/// `rows * cols` elements (input and target of the call's dtype); cross-entropy treats input as
/// [rows, cols] logits with int64 class targets [rows]. `loss` receives one value (Mean, Sum) or
/// one per element / per row (None); `grad`, when not null, receives d(reduced loss)/d(input)
/// (already divided by the count for Mean), dense like the input.
struct LossCall {
  LossKind kind;
  DType dtype;
  Reduction reduction;
  std::int64_t rows, cols;
  const void* input;
  const void* target;
  void* loss;
  void* grad;
  /// Cross-entropy: rows whose target is this class contribute no loss and no gradient, and a Mean
  /// divides by the rows that count (PyTorch's ignore_index, −100 by default).
  std::int64_t ignore_index = -100;
  /// Cross-entropy with Mean and a gradient: the kernel scales the gradient by 1/rows before it
  /// knows how many rows count, and writes here (one element of the dtype) the factor
  /// rows / counted (0 when none counts) that backward applies.
  void* grad_rescale = nullptr;
};

/// One parameter of a multi-tensor optimizer step: dense arrays of `numel` elements of the
/// call's dtype. `state1`/`state2`: momentum buffer, or Adam's exp_avg and exp_avg_sq.
struct ParamSlot {
  void* param;
  const void* grad;
  void* state1;
  void* state2;
  std::int64_t numel;
  /// The learning rate: one float64 in the device's memory, kept current by the optimizer, so
  /// that a replayed graph reads the rate of the moment rather than the one it was captured with.
  const double* lr;
  /// SGD: the momentum buffer starts as the gradient. Adam: unused.
  bool first_step;
  /// Adam: this parameter's step count, one float64 in the device's memory; the step computes
  /// its bias corrections for t = count + 1 and stores t (so a replayed graph counts on).
  double* step;
};

/// SGD (optim/sgd.h's rule) over `count` parameters at once.
struct SgdStepCall {
  DType dtype;
  const ParamSlot* slots;
  std::int64_t count;
  double momentum, dampening, weight_decay;
  bool nesterov;
};

/// Adam / AdamW (optim/adam.h's rule) over `count` parameters at once.
struct AdamStepCall {
  DType dtype;
  const ParamSlot* slots;
  std::int64_t count;
  double beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;
};

}  // namespace nudge::kernels
