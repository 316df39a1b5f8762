#pragma once
/// The IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST): a magic number naming the
/// element type and rank, big-endian sizes, then raw elements. Files may be gzip-compressed
/// (read through zlib) or plain.
#include <string>

#include "core/tensor.h"
#include "data/dataset.h"

namespace nudge::data {

/// The whole file as a CPU tensor of `dtype` (values as stored: pixels stay 0..255).
Tensor read_idx(const std::string& path, DType dtype = kFloat32);

enum class MnistSplit { Train, Test };

/// An MNIST-family split from `directory` (train-images-idx3-ubyte[.gz], ...): inputs [N, 784]
/// float32 scaled to [0, 1], targets [N] int64 class labels.
TensorDataset load_mnist(const std::string& directory, MnistSplit split);

}  // namespace nudge::data
