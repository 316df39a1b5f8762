// The classification loss on log-probabilities (nll_loss) and the shape helpers of CNNs (pad,
// flatten, unflatten), composed of gathers, cats, narrows and reshapes.
#include <algorithm>

#include "core/factory.h"
#include "core/ops_checks.h"
#include "core/ops_spatial.h"

namespace nudge {

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, std::int64_t ignore_index,
                Reduction reduction) {
  detail::check_defined(input, "nll_loss");
  detail::check_defined(target, "nll_loss");
  detail::check_floating(input, "nll_loss");
  NUDGE_CHECK(target.dtype() == kInt64, "nll_loss: expected int64 class targets, got a ", describe(target));
  NUDGE_CHECK(target.device() == input.device(), "nll_loss: the input ", describe(input), " and the target ",
              describe(target), " are on different devices");
  NUDGE_CHECK(input.dim() >= 1, "nll_loss: expected an input [N, C] or [N, C, d...], got a ", describe(input));
  // [C] with target [] (one sample), [N, C] with [N], [N, C, d...] with [N, d...].
  const bool batched = input.dim() >= 2;
  Shape expected;
  if (batched) {
    expected.push_back(input.size(0));
    for (std::int64_t d = 2; d < input.dim(); ++d) expected.push_back(input.size(d));
  }
  NUDGE_CHECK(target.shape() == expected, "nll_loss: the target ", describe(target), " does not fit the input ",
              describe(input), " (expected a target of shape ", expected, ")");
  const std::int64_t C = batched ? input.size(1) : input.size(0);
  if (weight.defined()) {
    detail::check_same_device_and_dtype(input, weight, "nll_loss");
    NUDGE_CHECK(weight.dim() == 1 && weight.size(0) == C, "nll_loss: weight ", describe(weight),
                " does not fit the input ", describe(input), " (expected one weight per class: [", C, "])");
  }
  // Rows of class scores [M, C] and their targets [M].
  std::vector<std::int64_t> classes_last{0};  // [N, C, d...] -> [N, d..., C]
  for (std::int64_t d = 2; d < input.dim(); ++d) classes_last.push_back(d);
  classes_last.push_back(1);
  const Tensor rows = !batched           ? input.reshape({1, C})
                      : input.dim() == 2 ? input
                                         : input.permute(classes_last).reshape({-1, C});
  const Tensor classes = target.reshape({-1});
  const Tensor counts = ne(classes, ignore_index);
  if (classes.numel() > 0) {  // one synchronisation: the range of the targets that count
    NoGradGuard no_grad;
    const Tensor counted = where(counts, classes, 0);
    const auto bounds = stack({min(counted), max(counted)}).to_vector<std::int64_t>();
    const std::int64_t bad = bounds[0] < 0 ? bounds[0] : bounds[1];
    NUDGE_CHECK(bounds[0] >= 0 && bounds[1] < C, "nll_loss: target ", bad, " is out of bounds for ", C,
                " classes (input ", describe(input), ")");
  }
  const Tensor safe = where(counts, classes, 0);
  const Tensor picked = gather(rows, 1, safe.unsqueeze(1)).squeeze(1);  // [M]
  Tensor w = counts.to(input.dtype());
  if (weight.defined()) w = w * index_select(weight, 0, safe);
  const Tensor losses = -picked * w;
  switch (reduction) {
    case Reduction::None: return losses.reshape(target.shape());
    case Reduction::Sum: return sum(losses);
    case Reduction::Mean: return sum(losses) / sum(w);
  }
  return losses;
}

Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value) {
  detail::check_defined(x, "pad");
  NUDGE_CHECK(pads.size() % 2 == 0, "pad: expected an even number of pads ({left, right, top, bottom, ...}), got ",
              pads.size());
  NUDGE_CHECK(static_cast<std::int64_t>(pads.size() / 2) <= x.dim(), "pad: ", pads.size() / 2,
              " dims to pad, but the input ", describe(x), " has ", x.dim());
  const bool any_positive = std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p > 0; });
  Tensor out = x;
  for (std::size_t i = 0; i < pads.size() / 2; ++i) {
    const std::int64_t d = x.dim() - 1 - static_cast<std::int64_t>(i);
    const std::int64_t before = pads[2 * i], after = pads[2 * i + 1];
    const std::int64_t size = out.size(d);
    // PyTorch's rule: pads that only crop may leave a dim empty; once any pad adds, every padded
    // dim must keep at least one element.
    NUDGE_CHECK(size + before + after >= (any_positive ? 1 : 0), "pad: the input size ", size, " plus padding ", before,
                " and ", after, " of dim ", d, " of ", describe(x),
                any_positive ? " leaves no element" : " is negative");
    // Negative pads crop first; then the positive ones are blocks of `value` on either side.
    const std::int64_t crop_before = std::min<std::int64_t>(before, 0), crop_after = std::min<std::int64_t>(after, 0);
    out = out.narrow(d, -crop_before, size + crop_before + crop_after);
    std::vector<Tensor> parts;
    auto block = [&](std::int64_t n) {
      Shape shape = out.shape();
      shape[static_cast<std::size_t>(d)] = n;
      return full(shape, value, TensorOptions(x.dtype()).device(x.device()));
    };
    if (before > 0) parts.push_back(block(before));
    parts.push_back(out);
    if (after > 0) parts.push_back(block(after));
    if (parts.size() > 1) out = cat(parts, d);
  }
  return out;
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  detail::check_defined(x, "flatten");
  if (x.dim() == 0) return x.reshape({1});
  const std::int64_t start = wrap_dim(start_dim, x.dim(), "flatten"), end = wrap_dim(end_dim, x.dim(), "flatten");
  NUDGE_CHECK(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for ", describe(x));
  Shape shape;
  for (std::int64_t d = 0; d < start; ++d) shape.push_back(x.size(d));
  std::int64_t merged = 1;
  for (std::int64_t d = start; d <= end; ++d) merged *= x.size(d);
  shape.push_back(merged);
  for (std::int64_t d = end + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  return x.reshape(shape);
}

Tensor unflatten(const Tensor& x, std::int64_t dim, const std::vector<std::int64_t>& sizes) {
  detail::check_defined(x, "unflatten");
  NUDGE_CHECK(!sizes.empty(), "unflatten: sizes must not be empty");
  const std::int64_t d = wrap_dim(dim, x.dim(), "unflatten");
  std::int64_t known = 1, unknown = 0;
  for (std::int64_t s : sizes) s == -1 ? ++unknown : known *= s;
  NUDGE_CHECK(unknown <= 1, "unflatten: only one of the sizes may be -1");
  Shape shape;
  for (std::int64_t i = 0; i < d; ++i) shape.push_back(x.size(i));
  for (std::int64_t s : sizes) shape.push_back(s == -1 && known != 0 ? x.size(d) / known : s);
  for (std::int64_t i = d + 1; i < x.dim(); ++i) shape.push_back(x.size(i));
  NUDGE_CHECK(numel_of(shape) == x.numel(), "unflatten: sizes do not multiply to dim ", d, "'s size ", x.size(d),
              " of ", describe(x));
  return x.reshape(shape);
}

}  // namespace nudge
