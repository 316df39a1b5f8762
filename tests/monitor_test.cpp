// monitor/: progress display, metrics CSV, SVG plots, confusion matrix.
#include <cstdio>
#include <fstream>

#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

/// Everything `draw` writes into a FILE*.
template <class Draw> std::string captured(Draw draw) {
  std::FILE* f = std::tmpfile();
  draw(f);
  std::fflush(f);
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  std::fclose(f);
  return text;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(ProgressBar, PlainLinesAtQuartersWhenNotATerminal) {
  int loss_reads = 0;
  const std::string text = captured([&](std::FILE* f) {
    monitor::ProgressBar bar(2, 100, f, /*interactive=*/false);
    for (int epoch = 1; epoch <= 2; ++epoch) {
      bar.start_epoch(epoch);
      for (int b = 1; b <= 100; ++b) bar.update(b, 32, [&] { return ++loss_reads, 0.5; });
      bar.finish_epoch("test accuracy 0.9", 0.25);
    }
  });
  EXPECT_EQ(loss_reads, 6) << "the loss is read only when a line is drawn";
  EXPECT_EQ(count(text, "\n"), 8u) << text;  // 25/50/75% + the epoch's final line, twice
  EXPECT_EQ(count(text, "\r"), 0u);
  EXPECT_NE(text.find("epoch 1/2 [#####...............] batch 25/100  loss 0.5000"), std::string::npos) << text;
  EXPECT_NE(text.find("epoch 2/2 [####################] batch 100/100  loss 0.2500"), std::string::npos) << text;
  EXPECT_NE(text.find("samples/s  ETA "), std::string::npos);
  EXPECT_NE(text.find("took 0:00  test accuracy 0.9\n"), std::string::npos) << text;
}

TEST(ProgressBar, RedrawsInPlaceOnATerminal) {
  const std::string text = captured([&](std::FILE* f) {
    monitor::ProgressBar bar(1, 3, f, /*interactive=*/true);
    bar.start_epoch(1);
    for (int b = 1; b <= 3; ++b) bar.update(b, 8, [] { return 1.0; });
    bar.finish_epoch();
  });
  EXPECT_GE(count(text, "\r\033[K"), 2u) << text;  // the last batch always redraws, and the final line
  EXPECT_EQ(count(text, "\n"), 1u);
  EXPECT_TRUE(throws_error_with([] { monitor::ProgressBar(1, 0, stdout, false); }, {"ProgressBar", "positive"}));
  EXPECT_EQ(monitor::format_duration(3725), "1:02:05");
  EXPECT_EQ(monitor::format_duration(65.4), "1:05");
}

// The bar of a distributed job's other ranks: nothing drawn, the loss (a device sync) never read.
TEST(ProgressBar, WithoutAStreamIsSilent) {
  monitor::ProgressBar bar(1, 4, nullptr);
  EXPECT_TRUE(bar.silent());
  EXPECT_FALSE(bar.interactive());
  int loss_reads = 0;
  bar.start_epoch(1);
  for (int b = 1; b <= 4; ++b) bar.update(b, 8, [&] { return ++loss_reads, 1.0; });
  bar.finish_epoch("accuracy 1", 0.5);
  EXPECT_EQ(loss_reads, 0);
  EXPECT_EQ(bar.last_line(), "");
  EXPECT_FALSE(monitor::ProgressBar(1, 4, stdout, false).silent());
}

TEST(MetricsLog, StreamsCsvRows) {
  TempDir dir;
  {
    monitor::MetricsLog log({"epoch", "loss"}, dir / "m.csv");
    log.add({1, 0.5});
    EXPECT_EQ(file_contents(dir / "m.csv"), "epoch,loss\n1,0.5\n") << "rows are on disk as soon as they are added";
    log.add({2, 0.125});
    EXPECT_EQ(log.column("loss"), (std::vector<double>{0.5, 0.125}));
    EXPECT_TRUE(throws_error_with([&] { log.add({3}); }, {"1 values for 2 columns"}));
    EXPECT_TRUE(throws_error_with([&] { log.column("acc"); }, {"no column named \"acc\""}));
  }
  EXPECT_EQ(file_contents(dir / "m.csv"), "epoch,loss\n1,0.5\n2,0.125\n");
  EXPECT_TRUE(throws_error_with([&] { monitor::MetricsLog({"a"}, dir / "no/dir/m.csv"); }, {"cannot write"}));
}

TEST(SvgPlot, DrawsAxesSeriesAndLegend) {
  const std::string svg = monitor::svg_plot(
      {{"train <loss>", {1, 2, 3, 4}, {1.0, 0.5, NAN, 0.2}}, {"test", {1, 4}, {0.9, 0.3}}}, {.title = "A & B"});
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("A &amp; B"), std::string::npos);
  EXPECT_NE(svg.find("train &lt;loss&gt;"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 3u) << "the NaN splits the first series in two";
  EXPECT_NE(svg.find(">0.2<"), std::string::npos) << "round-number ticks";

  const std::string log_svg = monitor::svg_plot({{"loss", {1, 2, 3}, {10, 0.1, 0.001}}}, {.log_y = true});
  EXPECT_NE(log_svg.find(">0.001<"), std::string::npos);
  EXPECT_NE(log_svg.find(">10<"), std::string::npos);
  EXPECT_NE(log_svg.find("(log scale)"), std::string::npos);
  EXPECT_TRUE(throws_error_with([] { monitor::svg_plot({{"s", {1, 2}, {1}}}); }, {"2 x values but 1 y values"}));
  // Nothing to draw still gives a valid document.
  EXPECT_NE(monitor::svg_plot({}).find("</svg>"), std::string::npos);
}

class ConfusionMatrixTest : public DeviceTest {};

TEST_P(ConfusionMatrixTest, CountsAccuracyAndRecall) {
  monitor::ConfusionMatrix m(3);
  m.add(from_vector<std::int64_t>({0, 1, 2, 2, 1}, {5}, TensorOptions(kInt64).device(device())),
        from_vector<std::int64_t>({0, 1, 1, 2, 0}, {5}, TensorOptions(kInt64).device(device())));
  EXPECT_EQ(m.total(), 5);
  EXPECT_EQ(m.count(1, 2), 1);
  EXPECT_EQ(m.count(0, 1), 1);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.6);
  EXPECT_DOUBLE_EQ(m.recall(0), 0.5);
  EXPECT_DOUBLE_EQ(m.recall(2), 1.0);
  const std::string table = m.str({"cat", "dog", "bird"});
  EXPECT_NE(table.find("      dog   0   1   1   0.5000"), std::string::npos) << table;
  EXPECT_NE(table.find("accuracy 0.6000 over 5 examples"), std::string::npos) << table;
  EXPECT_TRUE(throws_error_with([&] { m.add(3, 0); }, {"prediction 3", "[0, 3)"}));
  EXPECT_TRUE(throws_error_with([&] { m.add(zeros({2}), zeros({2})); }, {"int64", "float32"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, ConfusionMatrixTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing
