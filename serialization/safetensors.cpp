#include "serialization/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "serialization/file_io.h"

namespace nudge::serialization {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; nudge assumes a little-endian host");

namespace {

using nlohmann::json;

// Headers larger than this are refused before parsing (the reference implementation's limit).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

bool parse_dtype(const std::string& name, DType& out) {
  for (DType d : {kFloat32, kFloat64, kInt64, kBool})
    if (name == safetensors_dtype(d)) {
      out = d;
      return true;
    }
  return false;
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  // Host copies, ordered by element size (largest first, stable) so every tensor's offset is a
  // multiple of its element size once the data starts 8-byte aligned: readers may map it in place.
  std::vector<std::pair<std::string, Tensor>> host;
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    NUDGE_CHECK(!name.empty() && name != "__metadata__", "write_safetensors: invalid tensor name \"", name, "\"");
    NUDGE_CHECK(names.insert(name).second, "write_safetensors: the name \"", name, "\" appears twice");
    NUDGE_CHECK(t.defined(), "write_safetensors: \"", name, "\" is an undefined tensor");
    host.emplace_back(name, t.detach().to(Device::cpu()).contiguous());
  }
  std::stable_sort(host.begin(), host.end(),
                   [](const auto& a, const auto& b) { return a.second.element_size() > b.second.element_size(); });

  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : host) {
    const std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
    header[name] = {
        {"dtype", safetensors_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  const std::uint64_t header_size = text.size();

  ByteChunks chunks{{&header_size, 8}, {text.data(), text.size()}};
  for (const auto& [name, t] : host)
    chunks.emplace_back(t.data_ptr(), static_cast<std::size_t>(t.numel()) * t.element_size());
  write_file_atomically(path, chunks, "write_safetensors");
}

SafetensorsFile read_safetensors(const std::string& path, Device device) {
  return parse_safetensors(read_file(path, "read_safetensors"), path, device);
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source, Device device) {
  const std::string where = "read_safetensors: " + source;
  NUDGE_CHECK_AS(FormatError, bytes.size() >= 8, where, " is truncated: ", bytes.size(),
                 " bytes, too short for the header length");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  NUDGE_CHECK_AS(FormatError, header_size <= kMaxHeaderBytes, where, ": header length ", header_size,
                 " is implausible (not a safetensors file?)");
  NUDGE_CHECK_AS(FormatError, header_size <= bytes.size() - 8, where, " is truncated: the header needs ", header_size,
                 " bytes, the file has ", bytes.size() - 8, " after the length");

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  } catch (const json::exception& e) {
    NUDGE_FAIL_AS(FormatError, where, ": the header is not valid JSON: ", e.what());
  }
  NUDGE_CHECK_AS(FormatError, header.is_object(), where, ": the header must be a JSON object");

  const std::size_t data_start = 8 + header_size;
  const std::uint64_t data_size = bytes.size() - data_start;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  SafetensorsFile file;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      NUDGE_CHECK_AS(FormatError, info.is_object(), where, ": __metadata__ must map strings to strings");
      for (const auto& [key, value] : info.items()) {
        NUDGE_CHECK_AS(FormatError, value.is_string(), where, ": __metadata__[\"", key, "\"] is not a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string what = where + ": tensor \"" + name + "\"";
    NUDGE_CHECK_AS(
        FormatError,
        info.is_object() && info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"), what,
        " needs dtype, shape and data_offsets");
    Entry e{name, kFloat32, {}, 0, 0};
    NUDGE_CHECK_AS(FormatError, info["dtype"].is_string() && parse_dtype(info["dtype"].get<std::string>(), e.dtype),
                   what, " has dtype ", info["dtype"].dump(), "; nudge reads F32, F64, I64 and BOOL");
    const json& shape = info["shape"];
    NUDGE_CHECK_AS(FormatError, shape.is_array(), what, ": shape must be an array");
    for (const json& d : shape) {
      const bool valid = d.is_number_unsigned() ? d.get<std::uint64_t>() <= std::uint64_t{INT64_MAX}
                                                : d.is_number_integer() && d.get<std::int64_t>() >= 0;
      NUDGE_CHECK_AS(FormatError, valid, where, ": tensor \"", name,
                     "\": shape entries must be integers from 0 to 2^63-1, got ", shape.dump());
      e.shape.push_back(d.get<std::int64_t>());
    }
    // Checked: a shape whose byte count overflows must not pass as a small one ([2^62, 4] F32).
    std::int64_t nbytes = 0;
    try {
      nbytes = nbytes_of(e.shape, itemsize(e.dtype));
    } catch (const Error&) {
      NUDGE_FAIL_AS(FormatError, what, ": shape ", shape_str(e.shape), " ", info["dtype"].dump(),
                    " is larger than any file (its byte count overflows)");
    }
    const json& offsets = info["data_offsets"];
    NUDGE_CHECK_AS(
        FormatError,
        offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(),
        what, ": data_offsets must be [begin, end], got ", offsets.dump());
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    NUDGE_CHECK_AS(FormatError, e.begin <= e.end && e.end <= data_size, what, ": data_offsets ", offsets.dump(),
                   " lie outside the ", data_size, " data bytes (truncated file?)");
    NUDGE_CHECK_AS(FormatError, e.end - e.begin == static_cast<std::uint64_t>(nbytes), what, ": shape ",
                   shape_str(e.shape), " ", info["dtype"].dump(), " needs ", nbytes, " bytes but data_offsets span ",
                   e.end - e.begin);
    entries.push_back(std::move(e));
  }
  // The tensors must tile the data exactly: no gaps, no overlaps, nothing left over.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  std::uint64_t expected = 0;
  for (const Entry& e : entries) {
    NUDGE_CHECK_AS(FormatError, e.begin == expected, where, ": tensor \"", e.name, "\" starts at byte ", e.begin,
                   " of the data, expected ", expected, " (gap or overlap)");
    expected = e.end;
  }
  NUDGE_CHECK_AS(FormatError, expected == data_size, where, ": ", data_size - expected,
                 " bytes after the last tensor (corrupt file?)");

  for (const Entry& e : entries) {
    if (e.dtype == kBool) {  // a C++ bool must hold 0 or 1; any other byte is a corrupt file
      const auto* first = bytes.data() + data_start + e.begin;
      const auto* bad = std::find_if(first, first + (e.end - e.begin), [](auto b) { return std::uint8_t(b) > 1; });
      NUDGE_CHECK_AS(FormatError, bad == first + (e.end - e.begin), where, ": tensor \"", e.name,
                     "\" is BOOL but holds the byte ", int(std::uint8_t(*bad)), " (only 0 and 1 are booleans)");
    }
    Tensor t = empty(e.shape, TensorOptions(e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), bytes.data() + data_start + e.begin, e.end - e.begin);
    file.tensors.emplace_back(e.name, t.to(device));
  }
  return file;
}

}  // namespace nudge::serialization
