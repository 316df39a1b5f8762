#pragma once
/// The IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST): a magic number naming the
/// element type and rank, big-endian sizes, then raw elements. Files may be gzip-compressed
/// (read through zlib) or plain.
#include <string>
#include <string_view>

#include "core/tensor.h"
#include "data/dataset.h"

namespace nudge::data {

/// The whole file as a CPU tensor of `dtype` (values as stored: pixels stay 0..255). The header's
/// sizes are checked against the file before anything is allocated, a gzip file must end with its
/// verified trailer, and float data read as int64 must hold exact integers in range. Errors:
/// nudge::IOError (cannot read the file), nudge::FormatError (anything wrong inside it).
Tensor read_idx(const std::string& path, DType dtype = kFloat32);
/// The same from the file's bytes in memory; `source` names them in errors.
Tensor parse_idx(std::string_view bytes, const std::string& source, DType dtype = kFloat32);

enum class MnistSplit { Train, Test };

/// An MNIST-family split from `directory` (train-images-idx3-ubyte[.gz], ...): inputs [N, 784]
/// float32 scaled to [0, 1], targets [N] int64 class labels (each checked to be 0..9).
TensorDataset load_mnist(const std::string& directory, MnistSplit split);

}  // namespace nudge::data
