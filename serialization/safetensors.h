#pragma once
/// The safetensors format (https://github.com/huggingface/safetensors), read and written by
/// nudge itself: an 8-byte little-endian header length, a JSON header mapping each tensor name
/// to {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then the raw
/// little-endian data. Files written here load with `safetensors.torch.load_file`, and files
/// written by PyTorch's tooling load here (F32, F64 and I64 tensors).
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nudge::serialization {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in file order (by data offset)
  Metadata metadata;
};

/// Writes `tensors` (any device; copied to the host) atomically: to a temporary file in the same
/// directory, flushed to disk, then renamed over `path`. Names must be unique and non-empty.
void write_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

/// Reads and validates a whole file: header length, JSON, dtypes, shapes, and offsets that tile
/// the data exactly. Any problem is a nudge::Error naming the file and what is wrong.
/// Tensors are created on `device`.
SafetensorsFile read_safetensors(const std::string& path, Device device = Device::cpu());
/// The same from bytes in memory; `source` names them in errors. Errors: nudge::FormatError for a
/// malformed file (read_safetensors adds nudge::IOError for one it cannot read).
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source, Device device = Device::cpu());

}  // namespace nudge::serialization
