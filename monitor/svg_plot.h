#pragma once
/// Line plots as standalone SVG files (open them in any browser): loss curves without Python or
/// gnuplot. Axes with round-number ticks, optional log-scale y, a legend per series.
#include <string>
#include <vector>

namespace nudge::monitor {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

/// Designated initialisers follow the field order: `{.title, .x_label, .y_label, .log_y, .width, .height}`.
struct PlotOptions {
  std::string title;
  std::string x_label = "epoch";
  std::string y_label = "loss";
  /// Logarithmic y axis (loss curves spanning decades); points ≤ 0 are left out.
  bool log_y = false;
  int width = 720, height = 440;
};

/// The SVG document. Non-finite points are left out (the line breaks there).
std::string svg_plot(const std::vector<Series>& series, const PlotOptions& options = {});
/// Writes svg_plot(...) to `path`.
void write_svg_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options = {});

}  // namespace nudge::monitor
