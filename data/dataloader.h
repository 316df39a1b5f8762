#pragma once
/// data::DataLoader: batches of a TensorDataset, reshuffled every epoch from a seeded generator,
/// delivered on the training device.
///
///   data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 1, .device = dev});
///   for (int epoch = 0; epoch < epochs; ++epoch)
///     for (const data::Batch& batch : loader) { ... batch.input, batch.target ... }
///
/// The order of epoch e is a function of (seed, e) alone, so a loader's position is a few numbers:
/// state_dict() saves them and load_state_dict() makes the next begin() continue the same epoch at
/// the next batch, in the same order (serialization/checkpoint.h saves it with the model). A state
/// saved inside the loop body of an epoch's last batch resumes as an epoch with no batches left,
/// so the code after the loop (the scheduler's step, the epoch's checkpoint) runs exactly once.
///
/// For a CUDA device, rows are gathered into pinned host buffers and copied asynchronously: the
/// host gathers batch k+1 while the GPU still works on batch k. Two buffers alternate, each
/// guarded by an event, so a buffer is only rewritten once its copy has finished.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/cuda.h"
#include "core/generator.h"
#include "core/state_dict.h"
#include "data/dataset.h"

namespace nudge::data {

/// Designated initialisers follow the field order:
/// `{.batch_size, .shuffle, .drop_last, .seed, .device, .pin_memory, .num_replicas, .rank}`.
struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;
  /// Skip the last batch when it would be smaller than batch_size.
  bool drop_last = false;
  /// Seed of the shuffling generator: the same seed gives the same order, epoch after epoch.
  std::uint64_t seed = 0;
  /// Where batches are delivered. A data set on this device already is gathered there.
  Device device = Device::cpu();
  /// Stage CUDA batches of a CPU data set in pinned memory and copy them asynchronously.
  bool pin_memory = true;
  /// Distributed training (PyTorch's DistributedSampler): the epoch's order, the same permutation
  /// on every rank, is dealt out like cards, example i to rank i mod num_replicas, so the ranks
  /// see disjoint shards of equal size. Without drop_last the order is first padded by repeating
  /// its start (every rank gets ceil(n / num_replicas) examples); with it, the tail that does not
  /// divide evenly is dropped.
  std::int64_t num_replicas = 1;
  std::int64_t rank = 0;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const TensorDataset> dataset, DataLoaderOptions options);
  DataLoader(TensorDataset dataset, DataLoaderOptions options)
      : DataLoader(std::make_shared<const TensorDataset>(std::move(dataset)), options) {}
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    const Batch& operator*() const { return current_; }
    const Batch* operator->() const { return &current_; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, std::int64_t index, bool sentinel = false);
    DataLoader* loader_;
    std::int64_t index_;
    Batch current_;
  };

  /// Starts an epoch: a new order when shuffling. After load_state_dict, continues the restored
  /// epoch instead, at the first batch not yet delivered.
  Iterator begin();
  Iterator end() { return Iterator(this, num_batches(), /*sentinel=*/true); }

  /// Batches per epoch.
  std::int64_t num_batches() const;
  std::int64_t batch_size() const { return options_.batch_size; }
  const TensorDataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  /// Examples per epoch on this rank (the data set's size without sharding).
  std::int64_t num_samples() const;
  /// The example indices of the current epoch, in delivery order.
  const std::vector<std::int64_t>& order() const { return order_; }
  /// Epochs begun so far (1 during the first), and batches delivered in the current one.
  std::int64_t epoch() const { return epoch_; }
  std::int64_t batches_delivered() const { return position_; }

  /// "seed", "epoch", "batches_delivered", "epoch_finished" (the iteration ran to its end, rather
  /// than being saved from inside the loop over the last batch), plus the dataset size, batch size and shuffle flag it
  /// must be restored with (as 0-dim int64 tensors).
  NamedTensors state_dict() const;
  /// Restores a state_dict() of a loader over the same data with the same options.
  void load_state_dict(const NamedTensors& state);

 private:
  Batch load(std::int64_t batch_index);
  /// order_ for epoch `epoch`: the identity, or a shuffle seeded by (seed, epoch).
  void make_order(std::int64_t epoch);
  void shuffle_order(std::int64_t epoch);
  /// Fisher-Yates over order_, seeded by (seed, epoch).
  void shuffle(std::int64_t epoch);
  /// Keeps this rank's shard of order_ (DataLoaderOptions::num_replicas).
  void deal_shard();
  struct Staging;  // pinned host buffers + an event, for one in-flight CUDA copy

  std::shared_ptr<const TensorDataset> dataset_;
  DataLoaderOptions options_;
  std::vector<std::int64_t> order_;
  Tensor device_order_;  // order_ on the data set's device, when that is not the CPU
  std::int64_t epoch_ = 0, position_ = 0;
  bool epoch_finished_ = false;                    // an iterator stepped past the last batch of the current epoch
  bool resume_pending_ = false;                    // load_state_dict restored an unfinished epoch: begin() continues it
  std::vector<std::unique_ptr<Staging>> staging_;  // empty unless pinned CUDA delivery
  std::int64_t loads_ = 0;
};

}  // namespace nudge::data
