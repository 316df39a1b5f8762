#include "serialization/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

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
  }
  return "?";
}

bool parse_dtype(const std::string& name, DType& out) {
  for (DType d : {kFloat32, kFloat64, kInt64})
    if (name == safetensors_dtype(d)) {
      out = d;
      return true;
    }
  return false;
}

/// Writes all of `bytes` to `fd` or throws naming `path`.
void write_all(int fd, const void* bytes, std::size_t n, const std::string& path) {
  const auto* p = static_cast<const char*>(bytes);
  while (n > 0) {
    const ssize_t written = ::write(fd, p, n);
    if (written < 0 && errno == EINTR) continue;
    NUDGE_CHECK(written > 0, "write_safetensors: writing ", path, " failed: ", std::strerror(errno));
    p += written;
    n -= static_cast<std::size_t>(written);
  }
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

  const std::filesystem::path target(path);
  std::string temp = (target.parent_path() / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  NUDGE_CHECK(fd >= 0, "write_safetensors: cannot create a temporary file next to ", path, ": ", std::strerror(errno));
  try {
    write_all(fd, &header_size, 8, path);
    write_all(fd, text.data(), text.size(), path);
    for (const auto& [name, t] : host)
      write_all(fd, t.data_ptr(), static_cast<std::size_t>(t.numel()) * t.element_size(), path);
    NUDGE_CHECK(::fsync(fd) == 0, "write_safetensors: flushing ", path, " failed: ", std::strerror(errno));
    NUDGE_CHECK(::close(fd) == 0, "write_safetensors: closing ", path, " failed: ", std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  // mkstemp creates 0600; a checkpoint is an ordinary file.
  ::chmod(temp.c_str(), 0644);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    NUDGE_FAIL("write_safetensors: cannot rename the temporary file to ", path, ": ", std::strerror(error));
  }
}

SafetensorsFile read_safetensors(const std::string& path, Device device) {
  std::ifstream in(path, std::ios::binary);
  NUDGE_CHECK(in.good(), "read_safetensors: cannot open ", path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string where = "read_safetensors: " + path;
  NUDGE_CHECK(bytes.size() >= 8, where, " is truncated: ", bytes.size(), " bytes, too short for the header length");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  NUDGE_CHECK(header_size <= kMaxHeaderBytes, where, ": header length ", header_size,
              " is implausible (not a safetensors file?)");
  NUDGE_CHECK(header_size <= bytes.size() - 8, where, " is truncated: the header needs ", header_size,
              " bytes, the file has ", bytes.size() - 8, " after the length");

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  } catch (const json::exception& e) {
    NUDGE_FAIL(where, ": the header is not valid JSON: ", e.what());
  }
  NUDGE_CHECK(header.is_object(), where, ": the header must be a JSON object");

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
      NUDGE_CHECK(info.is_object(), where, ": __metadata__ must map strings to strings");
      for (const auto& [key, value] : info.items()) {
        NUDGE_CHECK(value.is_string(), where, ": __metadata__[\"", key, "\"] is not a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string what = where + ": tensor \"" + name + "\"";
    NUDGE_CHECK(info.is_object() && info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"),
                what, " needs dtype, shape and data_offsets");
    Entry e{name, kFloat32, {}, 0, 0};
    NUDGE_CHECK(info["dtype"].is_string() && parse_dtype(info["dtype"].get<std::string>(), e.dtype), what,
                " has dtype ", info["dtype"].dump(), "; nudge reads F32, F64 and I64");
    const json& shape = info["shape"];
    NUDGE_CHECK(shape.is_array(), what, ": shape must be an array");
    std::uint64_t numel = 1;
    for (const json& d : shape) {
      NUDGE_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<std::int64_t>() >= 0), what,
                  ": shape entries must be non-negative integers, got ", shape.dump());
      e.shape.push_back(d.get<std::int64_t>());
      numel *= d.get<std::uint64_t>();
    }
    const json& offsets = info["data_offsets"];
    NUDGE_CHECK(
        offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(),
        what, ": data_offsets must be [begin, end], got ", offsets.dump());
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    NUDGE_CHECK(e.begin <= e.end && e.end <= data_size, what, ": data_offsets ", offsets.dump(), " lie outside the ",
                data_size, " data bytes (truncated file?)");
    NUDGE_CHECK(e.end - e.begin == numel * itemsize(e.dtype), what, ": shape ", shape_str(e.shape), " ",
                info["dtype"].dump(), " needs ", numel * itemsize(e.dtype), " bytes but data_offsets span ",
                e.end - e.begin);
    entries.push_back(std::move(e));
  }
  // The tensors must tile the data exactly: no gaps, no overlaps, nothing left over.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  std::uint64_t expected = 0;
  for (const Entry& e : entries) {
    NUDGE_CHECK(e.begin == expected, where, ": tensor \"", e.name, "\" starts at byte ", e.begin,
                " of the data, expected ", expected, " (gap or overlap)");
    expected = e.end;
  }
  NUDGE_CHECK(expected == data_size, where, ": ", data_size - expected, " bytes after the last tensor (corrupt file?)");

  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, TensorOptions(e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), bytes.data() + data_start + e.begin, e.end - e.begin);
    file.tensors.emplace_back(e.name, t.to(device));
  }
  return file;
}

}  // namespace nudge::serialization
