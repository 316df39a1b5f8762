#pragma once
/// data::DataLoader: batches of a TensorDataset, reshuffled every epoch from a seeded generator,
/// delivered on the training device.
///
///   data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 1, .device = dev});
///   for (int epoch = 0; epoch < epochs; ++epoch)
///     for (const data::Batch& batch : loader) { ... batch.input, batch.target ... }
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
#include "data/dataset.h"

namespace nudge::data {

struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;
  /// Skip the last batch when it would be smaller than batch_size.
  bool drop_last = false;
  /// Seed of the shuffling generator: the same seed gives the same order, epoch after epoch.
  std::uint64_t seed = 0;
  /// Where batches are delivered.
  Device device = Device::cpu();
  /// Stage CUDA batches in pinned memory and copy them asynchronously (ignored for the CPU).
  bool pin_memory = true;
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
    Iterator(DataLoader* loader, std::int64_t index);
    DataLoader* loader_;
    std::int64_t index_;
    Batch current_;
  };

  /// Starts an epoch: a new order when shuffling.
  Iterator begin();
  Iterator end() { return Iterator(this, num_batches()); }

  /// Batches per epoch.
  std::int64_t num_batches() const;
  std::int64_t batch_size() const { return options_.batch_size; }
  const TensorDataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  /// The example indices of the current epoch, in delivery order.
  const std::vector<std::int64_t>& order() const { return order_; }

 private:
  Batch load(std::int64_t batch_index);
  struct Staging;  // pinned host buffers + an event, for one in-flight CUDA copy

  std::shared_ptr<const TensorDataset> dataset_;
  DataLoaderOptions options_;
  Generator generator_;
  std::vector<std::int64_t> order_;
  std::vector<std::unique_ptr<Staging>> staging_;  // empty unless pinned CUDA delivery
  std::int64_t loads_ = 0;
};

}  // namespace nudge::data
