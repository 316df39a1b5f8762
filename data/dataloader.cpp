#include "data/dataloader.h"

#include <numeric>
#include <utility>

#include "core/error.h"

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
    : dataset_(std::move(dataset)), options_(options), generator_(options.seed) {
  NUDGE_CHECK(dataset_ != nullptr, "DataLoader: the data set is null");
  NUDGE_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ", options_.batch_size);
  order_.resize(static_cast<std::size_t>(dataset_->size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.device.is_cuda() && options_.pin_memory) {
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

std::int64_t DataLoader::num_batches() const {
  const std::int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  if (options_.shuffle) {
    // Fisher-Yates from the loader's own generator: reproducible for a seed, new every epoch.
    std::iota(order_.begin(), order_.end(), 0);
    for (std::size_t i = order_.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(generator_.uniform_double() * static_cast<double>(i));
      std::swap(order_[i - 1], order_[std::min(j, i - 1)]);
    }
  }
  return Iterator(this, 0);
}

Batch DataLoader::load(std::int64_t batch_index) {
  const std::int64_t start = batch_index * options_.batch_size;
  const std::int64_t rows = std::min(options_.batch_size, dataset_->size() - start);
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

DataLoader::Iterator::Iterator(DataLoader* loader, std::int64_t index) : loader_(loader), index_(index) {
  if (index_ < loader_->num_batches()) current_ = loader_->load(index_);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++index_;
  current_ = index_ < loader_->num_batches() ? loader_->load(index_) : Batch{};
  return *this;
}

}  // namespace nudge::data
