// Printing in PyTorch's style: aligned values, nested brackets, "..." for large tensors, and
// always the shape, dtype and device (a learner should never wonder where a tensor lives).
#include <cctype>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/autograd/node.h"
#include "core/tensor.h"

namespace nudge {

namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // elements, as PyTorch's threshold
constexpr std::int64_t kEdgeItems = 3;

enum class Style { Boolean, Integer, WholeFloat, Fixed, Scientific };

Style choose_style(const std::vector<double>& values, DType dtype) {
  if (dtype == DType::Bool) return Style::Boolean;
  if (dtype == DType::Int64) return Style::Integer;
  double max_abs = 0, min_abs = INFINITY;
  bool whole = true;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const double a = std::fabs(v);
    max_abs = std::max(max_abs, a);
    if (a > 0) min_abs = std::min(min_abs, a);
    whole = whole && v == std::nearbyint(v);
  }
  if (whole && max_abs < 1e8) return Style::WholeFloat;
  if (max_abs >= 1e8 || min_abs < 1e-4) return Style::Scientific;
  return Style::Fixed;
}

std::string format_value(double v, std::int64_t i, Style style) {
  char buf[64];
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  switch (style) {
    case Style::Boolean: return v != 0 ? "True" : "False";
    case Style::Integer: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(i)); break;
    case Style::WholeFloat: std::snprintf(buf, sizeof buf, "%.0f.", v); break;
    case Style::Fixed: std::snprintf(buf, sizeof buf, "%.4f", v); break;
    case Style::Scientific: std::snprintf(buf, sizeof buf, "%.4e", v); break;
  }
  return buf;
}

struct Printer {
  const Shape& shape;
  const std::vector<double>& values;
  const std::vector<std::int64_t>& ints;
  Style style;
  bool summarize;
  std::size_t width = 0;
  std::ostringstream out;

  std::string cell(std::int64_t flat) const {
    std::string s = format_value(values[flat], ints.empty() ? 0 : ints[flat], style);
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  }

  /// Indices of dim `d` to show: all, or the first and last kEdgeItems with a gap marker (-1).
  std::vector<std::int64_t> shown(std::size_t d) const {
    std::vector<std::int64_t> idx;
    const std::int64_t n = shape[d];
    if (!summarize || n <= 2 * kEdgeItems) {
      for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
      for (std::int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);
      for (std::int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    }
    return idx;
  }

  void visit_cells(std::size_t d, std::int64_t base, std::vector<std::int64_t>& cells) const {
    for (auto i : shown(d)) {
      if (i < 0) continue;
      const std::int64_t flat = base * shape[d] + i;
      if (d + 1 == shape.size()) cells.push_back(flat);
      else visit_cells(d + 1, flat, cells);
    }
  }

  void print(std::size_t d, std::int64_t base, std::size_t indent) {
    out << '[';
    const auto idx = shown(d);
    for (std::size_t j = 0; j < idx.size(); ++j) {
      if (j > 0) {
        out << ',';
        if (d + 1 == shape.size()) out << ' ';
        else out << std::string(shape.size() - d - 1, '\n') << std::string(indent + 1, ' ');
      }
      if (idx[j] < 0) {
        out << "...";
        continue;
      }
      const std::int64_t flat = base * shape[d] + idx[j];
      if (d + 1 == shape.size()) out << cell(flat);
      else print(d + 1, flat, indent + 1);
    }
    out << ']';
  }
};

/// "clamp_min" -> "ClampMinBackward": PyTorch's way of naming a grad_fn.
std::string backward_name(std::string_view op) {
  std::string out;
  bool upper = true;
  for (const char c : op) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out + "Backward";
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const std::vector<double> values = to_vector<double>();
  const std::vector<std::int64_t> ints =
      dtype() == DType::Int64 ? to_vector<std::int64_t>() : std::vector<std::int64_t>{};
  Printer p{shape(), values, ints, choose_style(values, dtype()), numel() > kSummarizeAbove, 0, {}};
  std::ostringstream suffix;
  suffix << ", shape=" << shape_str(shape()) << ", dtype=" << dtype() << ", device=" << device();
  // As PyTorch: what produced it, or that it is a leaf that wants gradients.
  if (grad_fn()) suffix << ", grad_fn=<" << backward_name(grad_fn()->name()) << '>';
  else if (requires_grad()) suffix << ", requires_grad=True";
  suffix << ')';
  if (dim() == 0) return "tensor(" + format_value(values[0], ints.empty() ? 0 : ints[0], p.style) + suffix.str();
  std::vector<std::int64_t> cells;
  p.visit_cells(0, 0, cells);
  for (auto c : cells) p.width = std::max(p.width, format_value(values[c], ints.empty() ? 0 : ints[c], p.style).size());
  p.out << "tensor(";
  p.print(0, 0, 7);
  return p.out.str() + suffix.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.str(); }

}  // namespace nudge
