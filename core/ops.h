#pragma once
/// The public op functions. Each checks its arguments (same device, same dtype, broadcastable
/// shapes), allocates the output and calls the backend through core/dispatch.h. dtypes are
/// never promoted implicitly: mixing float32 and float64 is an error, convert with .to(dtype).
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/activation.h"
#include "core/scalar.h"
#include "core/tensor.h"

namespace nudge {

// ---- unary (float dtypes; neg, abs and relu also take int64) --------------------------------
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
/// log(1 + x), accurate for small |x|.
Tensor log1p(const Tensor& x);
/// e^x − 1, accurate for small |x|.
Tensor expm1(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
/// −1, 0 or 1 by the sign of x; 0 for NaN (as PyTorch 1.13). Its gradient is 0.
Tensor sign(const Tensor& x);
/// 1 / (1 + e^-x), computed without overflow for large |x|.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
/// act(x) for an Activation value, through the same activation table as the fused Dense kernels
/// (one kernel forward, one backward). Float dtypes.
Tensor activation(const Tensor& x, ActivationSpec act);
/// x·Φ(x); approximate = "tanh" for the tanh approximation (PyTorch's `approximate=`).
Tensor gelu(const Tensor& x, std::string_view approximate = "none");
/// x·σ(x) (swish).
Tensor silu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// log(1 + e^(βx))/β, and x itself where βx > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
/// x for x > 0, α(e^x − 1) otherwise (computed with expm1).
Tensor elu(const Tensor& x, double alpha = 1.0);
/// x^exponent elementwise.
Tensor pow(const Tensor& x, Scalar exponent);

// ---- binary, with NumPy broadcasting; a Scalar operand takes the tensor's dtype -------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, Scalar b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, Scalar b);
Tensor sub(Scalar a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, Scalar b);
/// Float dtypes only (int64 division would need promotion, which nudge never does silently).
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, Scalar b);
Tensor div(Scalar a, const Tensor& b);
/// Elementwise max/min; a NaN in either operand gives NaN.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// ---- comparisons and masks (core/ops_compare.cpp): bool results, no gradient ---------------------
/// Elementwise comparisons, broadcast; operands of one dtype (any, bool included). NaN compares
/// false, except with ne. A scalar must be exact in the tensor's dtype (an int64 tensor takes
/// integers, a bool tensor 0/1).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, Scalar b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, Scalar b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, Scalar b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, Scalar b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, Scalar b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, Scalar b);
/// True where x is NaN (never for int64 and bool).
Tensor isnan(const Tensor& x);
/// Logical connectives of any dtype (nonzero, NaN included, is true), with a bool result.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& x);

// ---- reductions -------------------------------------------------------------------------------
/// Sum of all elements (0-dim result; 0 for an empty tensor). A bool mask sums as int64 (a count).
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Whether any (all) elements are true, i.e. nonzero; a bool result. Empty: any false, all true.
Tensor any(const Tensor& x);
Tensor any(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor all(const Tensor& x);
Tensor all(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Float dtypes, and bool masks: the fraction that is true, as float32 (PyTorch requires a cast).
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Largest element (NaN if any element is NaN); throws on an empty tensor.
Tensor max(const Tensor& x);
/// (values, int64 indices of the first largest element) along `dim`.
std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Index of the first largest element of the flattened tensor (0-dim int64).
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Smallest element (NaN if any is NaN); throws on an empty tensor. Gradients as max's.
Tensor min(const Tensor& x);
/// (values, int64 indices of the first smallest element) along `dim`.
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Variance over `dim` (every element when std::nullopt): Σ(x − mean)² / (N − 1) when `unbiased`
/// (PyTorch's default), / N otherwise: `var(x)`, `var(x, 1)`, `var(x, std::nullopt, false)`. Float dtypes.
Tensor var(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool unbiased = true, bool keepdim = false);
/// sqrt(var), same arguments.
Tensor std(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool unbiased = true, bool keepdim = false);
/// The p-norm for p = 1, 2 or inf (INFINITY), of everything or along `dim`. Float dtypes.
Tensor norm(const Tensor& x, double p = 2);
Tensor norm(const Tensor& x, double p, std::int64_t dim, bool keepdim = false);
/// True when no element is NaN or ±inf (int64: always). One reduction and one sync; no graph.
bool all_finite(const Tensor& x);

// ---- linear algebra ---------------------------------------------------------------------------
/// Matrix product: 1-D·1-D, 2-D@2-D, batched 3-D@3-D, and 3-D with 2-D (the matrix is shared
/// across the batch), 1-D operands promoted as in PyTorch. float32/float64, BLAS / cuBLAS.
Tensor matmul(const Tensor& a, const Tensor& b);

/// act(x·Wᵀ + b) for x [..., in], weight [out, in], bias [out] (may be undefined), as ONE fused
/// op (core/ops_linear.cpp): a GEMM plus one bias+activation kernel forward; one kernel for the
/// activation gradient and the bias gradient plus two GEMMs backward.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              ActivationSpec act = Activation::Identity);

// ---- losses (core/ops_loss.cpp): loss and input gradient in ONE fused kernel ---------------------
/// A loss's per-element terms reduced as asked: their mean, their sum, or unchanged (None).
Tensor reduce_loss(const Tensor& per_element, Reduction reduction);
/// (input − target)², reduced. Input and target of the same shape (no silent broadcasting).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// binary_cross_entropy(sigmoid(x), t) computed stably from logits:
/// t·softplus(−x) + (1−t)·softplus(x), which stays exact at x = ±inf and never forms x·t.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);
/// −log softmax(logits)[target] for logits [N, C] and int64 class targets [N]. Rows whose target is
/// `ignore_index` (PyTorch's −100 by default, for padding) add no loss and no gradient, and Mean
/// divides by the rows that remain (NaN when none does).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean,
                     std::int64_t ignore_index = -100);
/// −[t·log p + (1−t)·log(1−p)] on probabilities p ∈ [0, 1] (else an error), each log clamped at
/// −100 and the gradient guarded at p ∈ {0, 1}, as in PyTorch. Prefer the logits version: it
/// needs no clamping. (Checks the range on the host: one synchronisation on a GPU.)
Tensor binary_cross_entropy(const Tensor& probabilities, const Tensor& target, Reduction reduction = Reduction::Mean);

// ---- composites (core/ops_composite.cpp) --------------------------------------------------------
/// log(softmax(x)) along `dim`, computed stably (max-shifted log-sum-exp).
Tensor log_softmax(const Tensor& x, std::int64_t dim);
Tensor softmax(const Tensor& x, std::int64_t dim);
/// [..., num_classes] with 1 at each int64 index; throws on an index outside [0, num_classes).
Tensor one_hot(const Tensor& indices, std::int64_t num_classes, DType dtype = kFloat32);
/// min(max(x, lo), hi) elementwise; either bound may be left out (std::nullopt). As in PyTorch,
/// lo > hi gives hi everywhere, NaN stays NaN, and the gradient flows where lo ≤ x ≤ hi.
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);
/// max(x, min) elementwise.
Tensor clamp_min(const Tensor& x, Scalar min);
/// min(x, max) elementwise.
Tensor clamp_max(const Tensor& x, Scalar max);

// ---- joining, splitting, indexing (core/ops_indexing.cpp) ------------------------------------------
/// The tensors joined along `dim`; all of one dtype and device, equal outside `dim`.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
/// The tensors (all of one shape) joined along a new dim `dim`.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
/// Views of consecutive `split_size` slices along `dim` (the last may be shorter).
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
/// split into at most `chunks` views of equal size (ceil(n / chunks)) along `dim`.
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);
/// The slices x[index[i]] along `dim` for a 0-d or 1-d int64 index (any order, repeats allowed).
/// Indices outside [0, size) are an error (checked on the host: one synchronisation on a GPU).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
/// out[i][j] = x[i][index[i][j]] for dim = 1 (and likewise for any dim); out has index's shape.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
/// A copy of self with src[i][j] added at self[i][index[i][j]] (dim = 1); repeated indices add up.
/// On CUDA the additions into one element land in any order (atomics), as in PyTorch.
Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src);
/// a where condition is nonzero (NaN counts as true), b elsewhere; broadcast. The condition may be
/// of any dtype (a comparison's mask); a and b share one.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, Scalar b);
Tensor where(const Tensor& condition, Scalar a, const Tensor& b);
/// x with `value` where mask is nonzero; x and mask broadcast together (as PyTorch's out-of-place
/// masked_fill).
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);

// ---- operators ----------------------------------------------------------------------------------
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
inline Tensor operator+(Scalar a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
inline Tensor operator-(Scalar a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
inline Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
inline Tensor operator/(Scalar a, const Tensor& b) { return div(a, b); }
/// Comparison operators return bool masks, as in PyTorch: `where(x > 0, x, 0.1 * x)`.
inline Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
inline Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
inline Tensor operator==(Scalar a, const Tensor& b) { return eq(b, a); }
inline Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
inline Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }
inline Tensor operator!=(Scalar a, const Tensor& b) { return ne(b, a); }
inline Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
inline Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
inline Tensor operator<(Scalar a, const Tensor& b) { return gt(b, a); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
inline Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
inline Tensor operator<=(Scalar a, const Tensor& b) { return ge(b, a); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
inline Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
inline Tensor operator>(Scalar a, const Tensor& b) { return lt(b, a); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
inline Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
inline Tensor operator>=(Scalar a, const Tensor& b) { return le(b, a); }
/// Mask algebra on bool tensors (other dtypes: the logical_* functions).
Tensor operator~(const Tensor& x);
Tensor operator&(const Tensor& a, const Tensor& b);
Tensor operator|(const Tensor& a, const Tensor& b);
Tensor operator^(const Tensor& a, const Tensor& b);
inline Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
inline Tensor& operator+=(Tensor& a, Scalar b) { return a.add_(b); }
inline Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
inline Tensor& operator-=(Tensor& a, Scalar b) { return a.sub_(b); }
inline Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
inline Tensor& operator*=(Tensor& a, Scalar b) { return a.mul_(b); }

}  // namespace nudge
