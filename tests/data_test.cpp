// data/: TensorDataset, DataLoader, and the CSV and IDX readers on valid and broken files.
#include <algorithm>
#include <numeric>
#include <set>

#include "file_builders.h"
#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

using data::Batch;
using data::DataLoader;
using data::TensorDataset;

/// Inputs [n, 3] whose row i is (i, i + 0.5, -i); targets [n] = i (int64).
TensorDataset numbered_dataset(std::int64_t n) {
  Tensor x = empty({n, 3});
  Tensor y = empty({n}, kInt64);
  for (std::int64_t i = 0; i < n; ++i) {
    x.data_ptr<float>()[3 * i] = static_cast<float>(i);
    x.data_ptr<float>()[3 * i + 1] = static_cast<float>(i) + 0.5f;
    x.data_ptr<float>()[3 * i + 2] = -static_cast<float>(i);
    y.data_ptr<std::int64_t>()[i] = i;
  }
  return TensorDataset(x, y);
}

/// The example ids of one epoch, checking each batch's rows against its targets on the way.
std::vector<std::int64_t> epoch_ids(DataLoader& loader, Device device,
                                    std::vector<std::int64_t>* batch_sizes = nullptr) {
  std::vector<std::int64_t> ids;
  for (const Batch& batch : loader) {
    EXPECT_EQ(batch.input.device(), device);
    EXPECT_EQ(batch.target.device(), device);
    const auto x = batch.input.to_vector<double>();
    const auto y = batch.target.to_vector<std::int64_t>();
    for (std::size_t r = 0; r < y.size(); ++r) {
      EXPECT_EQ(x[3 * r], static_cast<double>(y[r]));
      EXPECT_EQ(x[3 * r + 1], static_cast<double>(y[r]) + 0.5);
      EXPECT_EQ(x[3 * r + 2], -static_cast<double>(y[r]));
    }
    ids.insert(ids.end(), y.begin(), y.end());
    if (batch_sizes) batch_sizes->push_back(static_cast<std::int64_t>(y.size()));
  }
  return ids;
}

class DataLoaderTest : public DeviceTest {};

TEST_P(DataLoaderTest, EverySampleExactlyOncePerEpoch) {
  for (const bool shuffle : {false, true}) {
    DataLoader loader(numbered_dataset(103), {.batch_size = 10, .shuffle = shuffle, .seed = 7, .device = device()});
    EXPECT_EQ(loader.num_batches(), 11);
    for (int epoch = 0; epoch < 3; ++epoch) {
      std::vector<std::int64_t> sizes;
      std::vector<std::int64_t> ids = epoch_ids(loader, device(), &sizes);
      ASSERT_EQ(sizes.size(), 11u);
      EXPECT_EQ(sizes.back(), 3);  // the short last batch is kept
      if (!shuffle) {
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
      }
      std::sort(ids.begin(), ids.end());
      std::vector<std::int64_t> all(103);
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(ids, all) << "shuffle=" << shuffle << " epoch " << epoch;
    }
  }
}

// Distributed training's shards, as PyTorch's DistributedSampler deals them: 10 examples to 3 ranks
// are padded to 12 by repeating the start (or cut to 9 with drop_last), then dealt round-robin.
TEST_P(DataLoaderTest, ShardsFollowPyTorchsDistributedSampler) {
  const std::vector<std::vector<std::int64_t>> padded = {{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}};
  const std::vector<std::vector<std::int64_t>> dropped = {{0, 3, 6}, {1, 4, 7}, {2, 5, 8}};
  for (std::int64_t rank = 0; rank < 3; ++rank) {
    DataLoader loader(numbered_dataset(10), {.batch_size = 2, .device = device(), .num_replicas = 3, .rank = rank});
    EXPECT_EQ(loader.num_samples(), 4);
    EXPECT_EQ(loader.num_batches(), 2);
    EXPECT_EQ(epoch_ids(loader, device()), padded[static_cast<std::size_t>(rank)]);
    DataLoader cut(numbered_dataset(10),
                   {.batch_size = 2, .drop_last = true, .device = device(), .num_replicas = 3, .rank = rank});
    EXPECT_EQ(cut.num_batches(), 1);  // 3 examples: one full batch, the short one dropped
    EXPECT_EQ(cut.order(), dropped[static_cast<std::size_t>(rank)]);
  }
  // Shuffled: every rank deals from the same permutation of the epoch (the single loader's).
  DataLoader whole(numbered_dataset(10), {.batch_size = 4, .shuffle = true, .seed = 3, .device = device()});
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::vector<std::int64_t> permutation = epoch_ids(whole, device());
    for (std::int64_t rank = 0; rank < 3; ++rank) {
      DataLoader shard(
          numbered_dataset(10),
          {.batch_size = 4, .shuffle = true, .seed = 3, .device = device(), .num_replicas = 3, .rank = rank});
      for (int e = 0; e < epoch; ++e) epoch_ids(shard, device());
      std::vector<std::int64_t> expected;
      for (std::size_t i = static_cast<std::size_t>(rank); i < 12; i += 3) expected.push_back(permutation[i % 10]);
      EXPECT_EQ(epoch_ids(shard, device()), expected) << "rank " << rank << " epoch " << epoch;
    }
  }
  EXPECT_TRUE(throws_error_with([&] { DataLoader bad(numbered_dataset(4), {.num_replicas = 2, .rank = 2}); },
                                {"rank must lie in [0, num_replicas)", "rank 2 of 2"}));
  // One rank's saved position (rank 0 writes checkpoints) resumes every rank, each on its own shard
  // of the same epoch; the number of ranks must match.
  DataLoader rank0(numbered_dataset(10), {.batch_size = 2, .shuffle = true, .seed = 5, .num_replicas = 3, .rank = 0});
  DataLoader rank2(numbered_dataset(10), {.batch_size = 2, .shuffle = true, .seed = 5, .num_replicas = 3, .rank = 2});
  (void)epoch_ids(rank0, Device::cpu());
  (void)epoch_ids(rank2, Device::cpu());
  auto first_batch = rank0.begin();  // epoch 2: one batch delivered, then the run is saved
  (void)*first_batch;
  const std::vector<std::int64_t> rank2_epoch2 = [&] {
    DataLoader reference(numbered_dataset(10), rank2.options());
    (void)epoch_ids(reference, Device::cpu());
    return epoch_ids(reference, Device::cpu());
  }();
  DataLoader resumed(numbered_dataset(10), rank2.options());
  resumed.load_state_dict(rank0.state_dict());
  EXPECT_EQ(epoch_ids(resumed, Device::cpu()),
            std::vector<std::int64_t>(rank2_epoch2.begin() + 2, rank2_epoch2.end()));  // rank 2's shard, batch 2 on
  DataLoader two_ranks(numbered_dataset(10), {.batch_size = 2, .shuffle = true, .seed = 5, .num_replicas = 2});
  EXPECT_TRUE(throws_error_with([&] { two_ranks.load_state_dict(rank0.state_dict()); },
                                {"the state is of a loader with num_replicas 3, this one has 2"}));
}

TEST_P(DataLoaderTest, DropLastSkipsTheShortBatch) {
  DataLoader loader(numbered_dataset(103), {.batch_size = 10, .shuffle = true, .drop_last = true, .device = device()});
  EXPECT_EQ(loader.num_batches(), 10);
  std::vector<std::int64_t> sizes;
  const std::vector<std::int64_t> ids = epoch_ids(loader, device(), &sizes);
  EXPECT_EQ(sizes, std::vector<std::int64_t>(10, 10));
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 100u);  // distinct examples
}

TEST_P(DataLoaderTest, ShuffleIsReproducibleForASeedAndNewEachEpoch) {
  auto orders = [&](std::uint64_t seed) {
    DataLoader loader(numbered_dataset(50), {.batch_size = 8, .shuffle = true, .seed = seed, .device = device()});
    std::vector<std::vector<std::int64_t>> epochs;
    for (int e = 0; e < 3; ++e) epochs.push_back(epoch_ids(loader, device()));
    return epochs;
  };
  const auto a = orders(1), b = orders(1), c = orders(2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0], a[1]);  // a new order each epoch
  std::vector<std::int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(a[0], identity);
}

TEST_P(DataLoaderTest, StopsEarlyAndRestarts) {
  // Leaving an epoch half-way (a break) and starting another is fine.
  DataLoader loader(numbered_dataset(40), {.batch_size = 4, .shuffle = true, .seed = 3, .device = device()});
  int seen = 0;
  for (const Batch& batch : loader) {
    EXPECT_EQ(batch.input.size(0), 4);
    if (++seen == 3) break;
  }
  EXPECT_EQ(epoch_ids(loader, device()).size(), 40u);
}

TEST_P(DataLoaderTest, PinnedStagingDeliversTheSameBatches) {
  if (!device().is_cuda()) GTEST_SKIP() << "pinned staging is for CUDA delivery";
  DataLoader pinned(numbered_dataset(257), {.batch_size = 32, .shuffle = true, .seed = 5, .device = device()});
  DataLoader pageable(numbered_dataset(257),
                      {.batch_size = 32, .shuffle = true, .seed = 5, .device = device(), .pin_memory = false});
  for (int epoch = 0; epoch < 2; ++epoch) EXPECT_EQ(epoch_ids(pinned, device()), epoch_ids(pageable, device()));
  // Batches still held after the loader moved on keep their values (each copy has its own target).
  std::vector<Batch> kept;
  for (const Batch& batch : pinned) kept.push_back(batch);
  std::int64_t rows = 0;
  for (const Batch& b : kept) rows += b.input.size(0);
  EXPECT_EQ(rows, 257);
  std::set<std::int64_t> ids;
  for (const Batch& b : kept)
    for (std::int64_t id : b.target.to_vector<std::int64_t>()) ids.insert(id);
  EXPECT_EQ(ids.size(), 257u);
}

TEST_P(DataLoaderTest, ADataSetOnTheDeviceIsGatheredThereWithTheSameOrder) {
  const TensorDataset host = numbered_dataset(101);
  const TensorDataset resident(host.inputs().to(device()), host.targets().to(device()));
  EXPECT_EQ(resident.device(), device());
  DataLoader from_host(host, {.batch_size = 16, .shuffle = true, .seed = 9, .device = device()});
  DataLoader on_device(resident, {.batch_size = 16, .shuffle = true, .seed = 9, .device = device()});
  for (int epoch = 0; epoch < 2; ++epoch) EXPECT_EQ(epoch_ids(from_host, device()), epoch_ids(on_device, device()));
  // Inputs follow their targets, and batches arrive on the device.
  for (const Batch& batch : on_device) {
    EXPECT_EQ(batch.input.device(), device());
    const std::vector<std::int64_t> ids = batch.target.cpu().to_vector<std::int64_t>();
    const std::vector<float> first_column = batch.input.select(1, 0).cpu().to_vector<float>();
    for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(first_column[i], static_cast<float>(ids[i]));
  }
  // Resuming mid-epoch rebuilds the device order.
  DataLoader resumed(resident, {.batch_size = 16, .shuffle = true, .seed = 9, .device = device()});
  auto it = on_device.begin();
  ++it;
  resumed.load_state_dict(on_device.state_dict());
  EXPECT_TRUE(all_close((*resumed.begin()).target, (*++it).target, 0, 0));
  EXPECT_TRUE(values_are(resident.get({3, 0}).target, {3, 0}, 0));
  EXPECT_TRUE(throws_error_with([&] { resident.get({101}); }, {"index 101", "101"}));
  if (device().is_cuda()) {
    EXPECT_TRUE(throws_error_with([&] { TensorDataset(host.inputs(), resident.targets()); },
                                  {"TensorDataset", "one device", "cpu", "cuda"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, DataLoaderTest, ::testing::ValuesIn(test_devices()), device_param_name);

TEST(TensorDataset, ChecksItsInputs) {
  EXPECT_TRUE(throws_error_with(
      [] {
        TensorDataset(zeros({3, 2}), zeros({4}));
      },
      {"TensorDataset", "3 rows", "targets have 4", "[3, 2]"}));
  EXPECT_TRUE(throws_error_with([] { TensorDataset(zeros({}), zeros({4})); }, {"TensorDataset", "batch dim"}));
  EXPECT_TRUE(
      throws_error_with([] { DataLoader(numbered_dataset(4), {.batch_size = 0}); }, {"DataLoader", "batch_size", "0"}));
  const TensorDataset set = numbered_dataset(5);
  EXPECT_TRUE(throws_error_with([&] { set.get({1, 5}); }, {"TensorDataset", "index 5", "5 examples"}));
  const Batch b = set.get({4, 0});
  EXPECT_TRUE(values_are(b.target, {4, 0}));
  EXPECT_TRUE(values_are(b.input, {4, 4.5, -4, 0, 0.5, 0}));
}

// ---- CSV ----------------------------------------------------------------------------------

TEST(Csv, ReadsHeaderAndNumbers) {
  TempDir dir;
  const std::string path = dir.write("prices.csv", "area, rooms,price\r\n50,2,150000\n\n 72.5 ,3,+2.1e5\n-1,0,0\n");
  const data::CsvTable table = data::read_csv(path);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"area", "rooms", "price"}));
  EXPECT_EQ(table.values.shape(), (Shape{3, 3}));
  EXPECT_EQ(table.values.dtype(), kFloat32);
  EXPECT_TRUE(values_are(table.values, {50, 2, 150000, 72.5, 3, 210000, -1, 0, 0}));
  EXPECT_TRUE(values_are(table.select({"price", "area"}), {150000, 50, 210000, 72.5, 0, -1}));
  EXPECT_EQ(table.column_index("rooms"), 1);
  const data::CsvTable raw = data::parse_csv("1;2\n3;4\n", {.delimiter = ';', .header = false, .dtype = kFloat64});
  EXPECT_EQ(raw.columns, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(raw.values.dtype(), kFloat64);
  EXPECT_TRUE(values_are(raw.values, {1, 2, 3, 4}));
}

TEST(Csv, BadFilesNameTheLineAndColumn) {
  EXPECT_TRUE(throws_error_with([] { data::parse_csv("a,b\n1,2\n3,x7\n", {}, "t.csv"); },
                                {"t.csv line 3, column 2 (\"b\")", "cannot parse \"x7\""}));
  EXPECT_TRUE(throws_error_with([] { data::parse_csv("a,b\n1,2\n3\n", {}, "t.csv"); },
                                {"t.csv line 3", "1 cells", "header names 2 columns"}));
  EXPECT_TRUE(throws_error_with([] { data::parse_csv("a,b\n1,\n", {}, "t.csv"); }, {"line 2, column 2", "empty cell"}));
  EXPECT_TRUE(
      throws_error_with([] { data::parse_csv("a,b\n1.5.2,3\n", {}, "t.csv"); }, {"line 2, column 1", "\"1.5.2\""}));
  EXPECT_TRUE(throws_error_with([] { data::parse_csv("\n\n", {}, "t.csv"); }, {"t.csv is empty"}));
  EXPECT_TRUE(throws_error_with([] { data::read_csv("/nonexistent/x.csv"); }, {"cannot open /nonexistent/x.csv"}));
  const data::CsvTable table = data::parse_csv("a\n1\n");
  EXPECT_TRUE(throws_error_with([&] { table.column_index("b"); }, {"no column named \"b\"", "columns: a"}));
}

// ---- IDX ----------------------------------------------------------------------------------

TEST(Idx, ReadsPlainAndGzippedFiles) {
  TempDir dir;
  const std::string pixels = idx_bytes(0x08, {2, 2, 3}, std::string{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, '\xFF'});
  for (const std::string& file : {dir.write("a-idx3-ubyte", pixels), dir.write("a-idx3-ubyte.gz", gzip(pixels))}) {
    const Tensor t = data::read_idx(file);
    EXPECT_EQ(t.shape(), (Shape{2, 2, 3}));
    EXPECT_TRUE(values_are(t, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}));
  }
  // Big-endian int16 and float32 elements.
  const Tensor s =
      data::read_idx(dir.write("s", idx_bytes(0x0B, {2}, std::string{'\x01', '\x02', '\xFF', '\xFE'})), kInt64);
  EXPECT_TRUE(values_are(s, {258, -2}));
  const Tensor f = data::read_idx(dir.write("f", idx_bytes(0x0D, {1}, std::string{'\x3F', '\xC0', '\0', '\0'})));
  EXPECT_TRUE(values_are(f, {1.5}));
}

TEST(Idx, BrokenFilesGiveClearErrors) {
  TempDir dir;
  const std::string good = idx_bytes(0x08, {3, 2}, std::string(6, '\x07'));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("m", "\x01\x02\x08\x02" + good.substr(4))); },
                                {"wrong magic number 0x01020802", "not an IDX file"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("t", idx_bytes(0x07, {3}, "abc"))); }, {"wrong magic"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("tr", good.substr(0, good.size() - 2))); },
                                {"is truncated", "uint8 data of shape [3, 2]", "needs 6 bytes", "the file has 4"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("gz", gzip(good).substr(0, 20))); }, {"read_idx"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("dims", good.substr(0, 9))); },
                                {"truncated", "dimension sizes"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir.write("extra", good + "!")); }, {"unexpected bytes after"}));
  EXPECT_TRUE(throws_error_with([&] { data::read_idx(dir / "missing"); }, {"cannot open", "missing"}));
}

TEST(Idx, LoadMnistPairsImagesWithLabels) {
  TempDir dir;
  dir.write("train-images-idx3-ubyte.gz",
            gzip(idx_bytes(0x08, {2, 2, 2}, std::string{0, 51, 102, '\xFF', 0, 0, 0, 0})));
  dir.write("train-labels-idx1-ubyte", idx_bytes(0x08, {2}, std::string{3, 9}));
  const TensorDataset set = data::load_mnist(dir.path(), data::MnistSplit::Train);
  EXPECT_EQ(set.inputs().shape(), (Shape{2, 4}));
  EXPECT_TRUE(values_are(set.inputs(), {0, 0.2, 0.4, 1, 0, 0, 0, 0}));
  EXPECT_EQ(set.targets().dtype(), kInt64);
  EXPECT_TRUE(values_are(set.targets(), {3, 9}));

  dir.write("t10k-images-idx3-ubyte", idx_bytes(0x08, {3, 1, 1}, std::string{1, 2, 3}));
  dir.write("t10k-labels-idx1-ubyte", idx_bytes(0x08, {2}, std::string{1, 2}));
  EXPECT_TRUE(throws_error_with([&] { data::load_mnist(dir.path(), data::MnistSplit::Test); },
                                {"has 3 images", "has 2 labels"}));
  TempDir empty_dir;
  EXPECT_TRUE(throws_error_with([&] { data::load_mnist(empty_dir.path(), data::MnistSplit::Test); },
                                {"t10k-images-idx3-ubyte.gz nor t10k-images-idx3-ubyte exists"}));
}

}  // namespace
}  // namespace nudge::testing
