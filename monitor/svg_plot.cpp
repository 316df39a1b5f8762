#include "monitor/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace nudge::monitor {

namespace {

// Colour-blind-safe palette (Okabe-Ito).
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

/// 1, 2 or 5 times a power of ten, near `raw`.
double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude;
}

struct Axis {
  double lo, hi;  // in plotted units (log10 of the value for a log axis)
  bool log;
  std::vector<double> ticks;  // plotted units
};

Axis make_axis(double lo, double hi, bool log) {
  if (log) {
    lo = std::log10(lo);
    hi = std::log10(hi);
  }
  if (!(hi > lo)) {  // one value, or none: widen around it
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Axis axis{lo, hi, log, {}};
  if (log) {
    axis.lo = std::floor(lo);
    axis.hi = std::ceil(hi);
    if (axis.hi == axis.lo) axis.hi += 1;
    for (double e = axis.lo; e <= axis.hi + 1e-9; e += 1) axis.ticks.push_back(e);
  } else {
    const double step = nice_step((hi - lo) / 5);
    axis.lo = std::floor(lo / step) * step;
    axis.hi = std::ceil(hi / step) * step;
    for (double t = axis.lo; t <= axis.hi + step * 1e-9; t += step)
      axis.ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
  }
  return axis;
}

std::string tick_label(double plotted, bool log) { return log ? number(std::pow(10.0, plotted)) : number(plotted); }

}  // namespace

std::string svg_plot(const std::vector<Series>& series, const PlotOptions& options) {
  for (const Series& s : series)
    NUDGE_CHECK(s.x.size() == s.y.size(), "svg_plot: series \"", s.name, "\" has ", s.x.size(), " x values but ",
                s.y.size(), " y values");
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!options.log_y || y > 0); };
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const Series& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i])) {
        x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
        y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
      }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = options.log_y ? 0.1 : 0, y_hi = 1;  // nothing to draw
  const Axis xa = make_axis(x_lo, x_hi, false), ya = make_axis(y_lo, y_hi, options.log_y);

  const double left = 70, right = 150, top = 40, bottom = 50;
  const double w = options.width - left - right, h = options.height - top - bottom;
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * w; };
  auto py = [&](double y) { return top + h - ((ya.log ? std::log10(y) : y) - ya.lo) / (ya.hi - ya.lo) * h; };
  auto py_plotted = [&](double t) { return top + h - (t - ya.lo) / (ya.hi - ya.lo) * h; };

  std::ostringstream svg;
  svg.precision(6);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << options.width << "\" height=\"" << options.height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!options.title.empty())
    svg << "<text x=\"" << left + w / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
        << escape_xml(options.title) << "</text>\n";
  for (double t : xa.ticks)
    svg << "<line x1=\"" << px(t) << "\" y1=\"" << top << "\" x2=\"" << px(t) << "\" y2=\"" << top + h
        << "\" stroke=\"#ddd\"/><text x=\"" << px(t) << "\" y=\"" << top + h + 16 << "\" text-anchor=\"middle\">"
        << tick_label(t, false) << "</text>\n";
  for (double t : ya.ticks)
    svg << "<line x1=\"" << left << "\" y1=\"" << py_plotted(t) << "\" x2=\"" << left + w << "\" y2=\"" << py_plotted(t)
        << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << py_plotted(t) + 4 << "\" text-anchor=\"end\">"
        << tick_label(t, ya.log) << "</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"none\" stroke=\"#333\"/>\n"
      << "<text x=\"" << left + w / 2 << "\" y=\"" << options.height - 12 << "\" text-anchor=\"middle\">"
      << escape_xml(options.x_label) << "</text>\n"
      << "<text transform=\"translate(16," << top + h / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << escape_xml(options.y_label + (options.log_y ? " (log scale)" : "")) << "</text>\n";

  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const char* colour = kColours[k % std::size(kColours)];
    // One polyline per run of usable points.
    std::string points;
    auto flush = [&] {
      if (!points.empty())
        svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"" << points << "\"/>\n";
      points.clear();
    };
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) {
        flush();
        continue;
      }
      std::ostringstream p;
      p.precision(6);
      p << px(s.x[i]) << ',' << py(s.y[i]) << ' ';
      points += p.str();
    }
    flush();
    const double ly = top + 10 + 20 * static_cast<double>(k);
    svg << "<line x1=\"" << left + w + 12 << "\" y1=\"" << ly << "\" x2=\"" << left + w + 36 << "\" y2=\"" << ly
        << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/><text x=\"" << left + w + 42 << "\" y=\"" << ly + 4
        << "\">" << escape_xml(s.name) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

void write_svg_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options) {
  const std::string text = svg_plot(series, options);
  std::ofstream out(path);
  NUDGE_CHECK(out.good(), "write_svg_plot: cannot write ", path);
  out << text;
  NUDGE_CHECK(out.good(), "write_svg_plot: writing ", path, " failed");
}

}  // namespace nudge::monitor
