#include "data/dataloader.h"

#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/factory.h"

namespace nudge::data {

struct DataLoader::Staging {
  Tensor input, target;  // pinned, batch_size rows
  cuda::Event copied;    // recorded after the copies that read them
};

namespace {
constexpr int kStagingBuffers = 2;

Tensor pinned_rows(const Tensor& like, std::int64_t rows) {
  Shape shape = like.shape();
  shape[0] = rows;
  return empty(shape, TensorOptions(like.dtype())).pin_memory();
}
}  // namespace

DataLoader::DataLoader(std::shared_ptr<const TensorDataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  NUDGE_CHECK(dataset_ != nullptr, "DataLoader: the data set is null");
  NUDGE_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ", options_.batch_size);
  NUDGE_CHECK(options_.num_replicas >= 1 && options_.rank >= 0 && options_.rank < options_.num_replicas,
              "DataLoader: rank must lie in [0, num_replicas), got rank ", options_.rank, " of ",
              options_.num_replicas);
  NUDGE_CHECK(options_.num_replicas == 1 || dataset_->size() >= options_.num_replicas || !options_.drop_last,
              "DataLoader: ", dataset_->size(), " examples cannot be dealt to ", options_.num_replicas,
              " ranks with drop_last");
  order_.resize(static_cast<std::size_t>(dataset_->size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.num_replicas > 1) deal_shard();
  if (options_.device.is_cuda() && options_.pin_memory && dataset_->device().is_cpu()) {
    for (int i = 0; i < kStagingBuffers; ++i) {
      auto staging = std::make_unique<Staging>();
      staging->input = pinned_rows(dataset_->inputs(), options_.batch_size);
      staging->target = pinned_rows(dataset_->targets(), options_.batch_size);
      staging_.push_back(std::move(staging));
    }
  }
}

DataLoader::~DataLoader() {
  for (auto& staging : staging_) staging->copied.synchronize();
}

std::int64_t DataLoader::num_samples() const {
  const std::int64_t n = dataset_->size(), r = options_.num_replicas;
  if (r == 1) return n;
  return options_.drop_last ? n / r : (n + r - 1) / r;
}

std::int64_t DataLoader::num_batches() const {
  const std::int64_t n = num_samples(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::make_order(std::int64_t epoch) {
  shuffle_order(epoch);
  // A device-resident data set takes each batch's indices as a view of this one upload per epoch.
  if (!dataset_->device().is_cpu())
    device_order_ = from_vector(order_, {static_cast<std::int64_t>(order_.size())},
                                TensorOptions(kInt64).device(dataset_->device()));
}

void DataLoader::shuffle_order(std::int64_t epoch) {
  order_.resize(static_cast<std::size_t>(dataset_->size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle) shuffle(epoch);
  if (options_.num_replicas > 1) deal_shard();
}

void DataLoader::deal_shard() {
  // PyTorch's DistributedSampler: pad by repeating the start (or cut the tail), then every
  // num_replicas-th example from `rank`.
  const auto replicas = static_cast<std::size_t>(options_.num_replicas);
  const std::size_t total = static_cast<std::size_t>(num_samples()) * replicas;
  std::vector<std::int64_t> padded(order_);
  for (std::size_t i = 0; padded.size() < total; ++i) padded.push_back(order_[i % order_.size()]);
  padded.resize(total);
  order_.clear();
  for (std::size_t i = static_cast<std::size_t>(options_.rank); i < total; i += replicas) order_.push_back(padded[i]);
}

void DataLoader::shuffle(std::int64_t epoch) {
  // Fisher-Yates from a generator seeded by (seed, epoch) through SplitMix64's finaliser:
  // reproducible for a seed, new every epoch, and recomputable for any epoch on resume.
  std::uint64_t z = options_.seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(epoch);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  Generator generator(z ^ (z >> 31));
  for (std::size_t i = order_.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(generator.uniform_double() * static_cast<double>(i));
    std::swap(order_[i - 1], order_[std::min(j, i - 1)]);
  }
}

DataLoader::Iterator DataLoader::begin() {
  if (resume_pending_) {
    resume_pending_ = false;
    return Iterator(this, position_);
  }
  make_order(++epoch_);
  position_ = 0;
  epoch_finished_ = false;
  return Iterator(this, 0);
}

NamedTensors DataLoader::state_dict() const {
  return {{"seed", state_scalar(static_cast<std::int64_t>(options_.seed))},
          {"epoch", state_scalar(epoch_)},
          {"batches_delivered", state_scalar(position_)},
          {"epoch_finished", state_scalar(std::int64_t{epoch_finished_})},
          {"dataset_size", state_scalar(dataset_->size())},
          {"batch_size", state_scalar(options_.batch_size)},
          {"shuffle", state_scalar(std::int64_t{options_.shuffle})},
          {"drop_last", state_scalar(std::int64_t{options_.drop_last})},
          {"num_replicas", state_scalar(options_.num_replicas)},
          {"rank", state_scalar(options_.rank)}};
}

void DataLoader::load_state_dict(const NamedTensors& state) {
  const char* who = "DataLoader::load_state_dict";
  StateDictReader reader(state, who);
  // The same data and options, or the restored position would mean other examples.
  const auto expect = [&](const char* key, std::int64_t mine) {
    const std::int64_t saved = reader.int64(key);
    NUDGE_CHECK(saved == mine, who, ": the state is of a loader with ", key, " ", saved, ", this one has ", mine);
  };
  expect("seed", static_cast<std::int64_t>(options_.seed));
  expect("dataset_size", dataset_->size());
  expect("batch_size", options_.batch_size);
  expect("shuffle", options_.shuffle);
  expect("drop_last", options_.drop_last);
  // A shard (distributed training) resumes among as many ranks. Its position is every rank's (each
  // deals its shard from the same permutation, in as many batches), so one rank's saved state --
  // rank 0 writes the checkpoints -- resumes any rank, on its own shard: "rank" is informative only.
  // States saved before sharding existed are of a one-process loader.
  if (reader.has("num_replicas")) {
    expect("num_replicas", options_.num_replicas);
    (void)reader.int64("rank");
  } else {
    NUDGE_CHECK(options_.num_replicas == 1, who, ": the state is of a one-process loader, this one is rank ",
                options_.rank, " of ", options_.num_replicas);
  }
  const std::int64_t epoch = reader.int64("epoch"), position = reader.int64("batches_delivered");
  const std::int64_t finished = reader.int64("epoch_finished");
  NUDGE_CHECK(epoch >= 0 && position >= 0 && position <= num_batches() && (epoch > 0 || position == 0) &&
                  (finished == 0 || finished == 1) && (finished == 0 || position == num_batches()),
              who, ": invalid position: epoch ", epoch, ", batch ", position, " of ", num_batches(),
              finished ? " (finished)" : "");
  reader.finish("a DataLoader state");
  epoch_ = epoch;
  position_ = position;
  epoch_finished_ = finished != 0;
  if (epoch_ > 0) make_order(epoch_);
  // An unfinished epoch: the next begin() delivers the rest of it (perhaps nothing). A finished
  // one: the next begin() starts the next epoch.
  resume_pending_ = epoch_ > 0 && !epoch_finished_;
}

Batch DataLoader::load(std::int64_t batch_index) {
  position_ = batch_index + 1;
  const std::int64_t start = batch_index * options_.batch_size;
  const std::int64_t rows = std::min(options_.batch_size, num_samples() - start);
  if (!dataset_->device().is_cpu()) {
    Batch batch = dataset_->get(device_order_.narrow(0, start, rows));
    return {batch.input.to(options_.device), batch.target.to(options_.device)};
  }
  const std::vector<std::int64_t> indices(order_.begin() + start, order_.begin() + start + rows);
  if (staging_.empty()) {
    Batch batch = dataset_->get(indices);
    return {batch.input.to(options_.device), batch.target.to(options_.device)};
  }
  Staging& staging = *staging_[static_cast<std::size_t>(loads_++ % kStagingBuffers)];
  staging.copied.synchronize();  // the copy that last read this buffer is done
  Tensor input = staging.input.narrow(0, 0, rows), target = staging.target.narrow(0, 0, rows);
  dataset_->gather_into(indices, input, target);
  Batch batch{input.to(options_.device, /*non_blocking=*/true), target.to(options_.device, /*non_blocking=*/true)};
  staging.copied.record(options_.device.index());
  return batch;
}

DataLoader::Iterator::Iterator(DataLoader* loader, std::int64_t index, bool sentinel) : loader_(loader), index_(index) {
  if (index_ < loader_->num_batches()) current_ = loader_->load(index_);
  else if (!sentinel) loader_->epoch_finished_ = true;  // an epoch with no batches (left)
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++index_;
  current_ = Batch{};  // frees the previous batch before the next is gathered
  if (index_ < loader_->num_batches()) current_ = loader_->load(index_);
  else loader_->epoch_finished_ = true;
  return *this;
}

}  // namespace nudge::data
