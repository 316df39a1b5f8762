// safetensors files and checkpoints: bit-identical round trips on each device, a file layout
// checked by an independent reader, broken files rejected without touching the model, and
// resuming from a checkpoint equal to training without interruption.
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "file_builders.h"
#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

/// The raw bytes of a tensor, copied to the host.
std::string bytes_of(const Tensor& t) {
  const Tensor host = t.cpu().contiguous();
  return std::string(static_cast<const char*>(host.data_ptr()),
                     static_cast<std::size_t>(host.numel()) * host.element_size());
}

serialization::NamedTensors sample_tensors(Device device) {
  Generator gen(11);
  const auto on = [&](DType d) { return TensorOptions(d).device(device); };
  return {{"weights.a", randn({3, 5}, gen, on(kFloat32))},
          {"b", randn({7}, gen, on(kFloat64))},
          {"counts", from_vector<std::int64_t>({1, -2, std::int64_t{1} << 60}, {3}, on(kInt64))},
          {"scalar", full({}, 2.5, on(kFloat32))},
          {"empty", zeros({0, 4}, on(kFloat32))},
          {"transposed", randn({4, 3}, gen, on(kFloat64)).t()}};  // not contiguous
}

class CheckpointTest : public DeviceTest {};

TEST_P(CheckpointTest, RoundTripIsBitIdentical) {
  TempDir dir;
  const serialization::NamedTensors tensors = sample_tensors(device());
  serialization::write_safetensors(dir / "t.safetensors", tensors, {{"note", "hello"}});
  const serialization::SafetensorsFile file = serialization::read_safetensors(dir / "t.safetensors", device());
  EXPECT_EQ(file.metadata.at("note"), "hello");
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (const auto& [name, original] : tensors) {
    const std::string& wanted = name;  // clang 14 cannot capture a structured binding
    const auto it =
        std::find_if(file.tensors.begin(), file.tensors.end(), [&](const auto& e) { return e.first == wanted; });
    ASSERT_NE(it, file.tensors.end()) << name;
    EXPECT_EQ(it->second.device(), device());
    EXPECT_EQ(it->second.dtype(), original.dtype()) << name;
    EXPECT_EQ(it->second.shape(), original.shape()) << name;
    EXPECT_EQ(bytes_of(it->second), bytes_of(original)) << name;
  }
}

TEST(Safetensors, LayoutMatchesTheSpecification) {
  // An independent reader: the spec's layout, parsed by hand here rather than by nudge.
  TempDir dir;
  const serialization::NamedTensors tensors = sample_tensors(Device::cpu());
  serialization::write_safetensors(dir / "t.safetensors", tensors, {{"format", "test"}});
  const std::string bytes = file_contents(dir / "t.safetensors");
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = header_size << 8 | static_cast<unsigned char>(bytes[i]);  // little-endian
  EXPECT_EQ((8 + header_size) % 8, 0u) << "data should start 8-byte aligned";
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  EXPECT_EQ(header["__metadata__"]["format"], "test");
  const std::string data = bytes.substr(8 + header_size);
  const std::map<std::string, std::string> dtype_names{{"float32", "F32"}, {"float64", "F64"}, {"int64", "I64"}};
  std::uint64_t covered = 0;
  for (const auto& [name, t] : tensors) {
    const auto& entry = header.at(name);
    EXPECT_EQ(entry["dtype"], dtype_names.at(std::string(dtype_name(t.dtype())))) << name;
    EXPECT_EQ(entry["shape"].get<std::vector<std::int64_t>>(), t.shape()) << name;
    const auto begin = entry["data_offsets"][0].get<std::uint64_t>(),
               end = entry["data_offsets"][1].get<std::uint64_t>();
    EXPECT_EQ(begin % t.element_size(), 0u) << name << " is not aligned to its element size";
    EXPECT_EQ(data.substr(begin, end - begin), bytes_of(t)) << name;
    covered += end - begin;
  }
  EXPECT_EQ(covered, data.size());
  EXPECT_EQ(header.size(), tensors.size() + 1);
}

TEST(Safetensors, ReadsFilesWrittenByOtherTools) {
  // Hand-made, as PyTorch's safetensors writes it: no metadata, header padded with spaces.
  TempDir dir;
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  header.append(8 - header.size() % 8, ' ');
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  const float values[2] = {1.5f, -2.0f};
  bytes += header + std::string(reinterpret_cast<const char*>(values), 8);
  const serialization::NamedTensors t = load(dir.write("x.safetensors", bytes));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, "x");
  EXPECT_TRUE(values_are(t[0].second, {1.5, -2}));
}

TEST(Safetensors, BrokenFilesAreClearErrors) {
  TempDir dir;
  serialization::write_safetensors(dir / "good", {{"w", ones({4})}, {"v", zeros({2}, kFloat64)}});
  const std::string good = file_contents(dir / "good");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, good.data(), 8);
  auto header_with = [](const std::string& json) { return safetensors_bytes(json); };
  struct Case {
    std::string bytes;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"", {"truncated", "0 bytes"}},
      {good.substr(0, 20), {"truncated", "header needs"}},
      {good.substr(0, good.size() - 3), {"lie outside"}},
      {good + "xyz", {"3 bytes after the last tensor"}},
      {std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", {"implausible"}},
      {header_with("{\"w\": [1, 2"), {"not valid JSON"}},
      {header_with("[1]"), {"must be a JSON object"}},
      {header_with(R"({"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})") + "ab",
       {"\"w\"", "\"BF16\"", "F32, F64, I64 and BOOL"}},
      {header_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})") + "abcd", {"needs 8 bytes", "span 4"}},
      {header_with(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})") + "abcd", {"integers from 0"}},
      {header_with(R"({"w":{"dtype":"F32","shape":[1]}})"), {"needs dtype, shape and data_offsets"}},
      {header_with(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})") +
           "abcd",
       {"starts at byte 0", "expected 4"}},
      {header_with(R"({"__metadata__":{"k":1}})"), {"__metadata__[\"k\"] is not a string"}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir.write("bad" + std::to_string(i), cases[i].bytes);
    try {
      serialization::read_safetensors(path);
      ADD_FAILURE() << "case " << i << " did not throw";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      for (const std::string& part : cases[i].parts)
        EXPECT_NE(message.find(part), std::string::npos) << "case " << i << ": " << message;
    }
  }
  EXPECT_TRUE(throws_error_with([&] { serialization::read_safetensors(dir / "missing"); }, {"cannot open"}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        serialization::write_safetensors(dir / "x", {{"a", ones({1})}, {"a", ones({1})}});
      },
      {"\"a\" appears twice"}));
}

TEST(Safetensors, WritesAreAtomic) {
  TempDir dir;
  const std::string path = dir / "model.safetensors";
  serialization::write_safetensors(path, {{"w", ones({3})}});
  serialization::write_safetensors(path, {{"w", zeros({3})}});  // replaces the file
  EXPECT_TRUE(values_are(load(path)[0].second, {0, 0, 0}));
  // Only the file itself is left: no temporary files.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
  // A write that cannot happen leaves the old file as it was.
  EXPECT_TRUE(throws_error_with(
      [&] {
        serialization::write_safetensors(dir / "no/such/dir/x", {{"w", ones({1})}});
      },
      {"cannot create a temporary file", "no/such/dir/x"}));
  EXPECT_TRUE(values_are(load(path)[0].second, {0, 0, 0}));
}

nn::Sequential small_mlp() { return nn::Sequential(nn::Linear(3, 5, nn::Activation::Tanh), nn::Linear(5, 2)); }

TEST_P(CheckpointTest, ModelRoundTripAndMismatchesLeaveTheModelUntouched) {
  TempDir dir;
  manual_seed(1);
  nn::Sequential a = small_mlp();
  a.to(device());
  save(a, dir / "a.safetensors");
  manual_seed(2);
  nn::Sequential b = small_mlp();
  b.to(device());
  load(b, dir / "a.safetensors");
  for (std::size_t i = 0; i < a.parameters().size(); ++i)
    EXPECT_EQ(bytes_of(a.parameters()[i]), bytes_of(b.parameters()[i]));

  // A model of another shape, and a corrupt file: errors, and b keeps its values.
  const std::string before = bytes_of(b.parameters()[0]);
  nn::Sequential other(nn::Linear(3, 4), nn::Linear(4, 2));
  save(other, dir / "other.safetensors");
  EXPECT_TRUE(throws_error_with([&] { load(b, dir / "other.safetensors"); },
                                {"does not fit the model", "\"0.weight\"", "[4, 3]", "[5, 3]"}));
  save(nn::Sequential(nn::Linear(3, 5)), dir / "fewer.safetensors");
  EXPECT_TRUE(throws_error_with([&] { load(b, dir / "fewer.safetensors"); }, {"missing keys: 1.weight, 1.bias"}));
  std::string bytes = file_contents(dir / "a.safetensors");
  bytes[8] = '#';  // the JSON header's opening brace
  EXPECT_TRUE(throws_error_with([&] { load(b, dir.write("corrupt.safetensors", bytes)); }, {"not valid JSON"}));
  EXPECT_EQ(bytes_of(b.parameters()[0]), before);
  // A model file is not optimizer state.
  optim::SGD sgd(b.parameters(), {.lr = 0.1});
  EXPECT_TRUE(throws_error_with([&] { load(sgd, dir / "a.safetensors"); },
                                {"\"nudge.module\"", "expected \"nudge.optimizer\""}));
}

/// `steps` SGD-momentum or Adam steps of small_mlp on fixed data, optionally checkpointing
/// after `stop_after` steps and resuming in a fresh model and optimizer.
std::vector<Tensor> train(Device device, const std::string& kind, int steps, int stop_after, const std::string& dir) {
  Generator gen(3);
  const Tensor x = randn({16, 3}, gen).to(device), y = randn({16, 2}, gen).to(device);
  auto make_optimizer = [&](nn::Module& m) -> std::unique_ptr<optim::Optimizer> {
    if (kind == "sgd")
      return std::make_unique<optim::SGD>(m.parameters(),
                                          optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
    return std::make_unique<optim::Adam>(m.parameters(), optim::AdamOptions{.lr = 0.01});
  };
  manual_seed(4);
  auto model = std::make_unique<nn::Sequential>(small_mlp());
  model->to(device);
  auto optimizer = make_optimizer(*model);
  for (int step = 1; step <= steps; ++step) {
    optimizer->zero_grad();
    nn::mse_loss((*model)(x), y).backward();
    optimizer->step();
    if (step == stop_after) {
      save(*model, dir + "/m.safetensors");
      save(*optimizer, dir + "/o.safetensors");
      manual_seed(99);  // a different initialisation, overwritten by the checkpoint
      model = std::make_unique<nn::Sequential>(small_mlp());
      model->to(device);
      optimizer = make_optimizer(*model);
      load(*model, dir + "/m.safetensors");
      load(*optimizer, dir + "/o.safetensors");
    }
  }
  return model->parameters();
}

TEST_P(CheckpointTest, ResumingEqualsUninterruptedTraining) {
  TempDir dir;
  for (const std::string kind : {"sgd", "adam"}) {
    const std::vector<Tensor> straight = train(device(), kind, 20, 0, dir.path());
    const std::vector<Tensor> resumed = train(device(), kind, 20, 8, dir.path());
    ASSERT_EQ(straight.size(), resumed.size());
    for (std::size_t i = 0; i < straight.size(); ++i)
      EXPECT_EQ(bytes_of(straight[i]), bytes_of(resumed[i])) << kind << " param " << i;
  }
}

TEST(OptimizerState, NamesCountsAndChecks) {
  manual_seed(0);
  nn::Sequential m = small_mlp();
  optim::Adam adam(m.parameters(), {.lr = 0.01});
  const Tensor x = ones({2, 3});
  m(x).sum().backward();
  adam.step();
  const auto state = adam.state_dict();
  std::set<std::string> names;
  for (const auto& [n, t] : state) names.insert(n);
  EXPECT_TRUE(names.count("type.Adam") && names.count("param_groups.0.lr") && names.count("state.0.step") &&
              names.count("state.3.exp_avg_sq"));
  EXPECT_EQ(names.size(), 2 + 4 * 3u);
  optim::SGD sgd(m.parameters(), {.lr = 0.1});
  EXPECT_TRUE(
      throws_error_with([&] { sgd.load_state_dict(state); }, {"SGD::load_state_dict", "saved by Adam, not SGD"}));
  optim::Adam smaller(nn::Sequential(nn::Linear(3, 5)).parameters(), {});
  EXPECT_TRUE(throws_error_with([&] { smaller.load_state_dict(state); }, {"unexpected entry \"state.2"}));
  nn::Sequential wide(nn::Linear(3, 6, nn::Activation::Tanh), nn::Linear(6, 2));
  optim::Adam mismatched(wide.parameters(), {});
  EXPECT_TRUE(throws_error_with([&] { mismatched.load_state_dict(state); },
                                {"\"state.0.exp_avg\" has shape [5, 3]", "[6, 3]"}));
}

INSTANTIATE_TEST_SUITE_P(Devices, CheckpointTest, ::testing::ValuesIn(test_devices()), device_param_name);

}  // namespace
}  // namespace nudge::testing
