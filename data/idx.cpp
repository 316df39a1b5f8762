#include "data/idx.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/ops.h"

namespace nudge::data {

namespace {

/// A gzip-or-plain file read through zlib, with errors that name the file.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    NUDGE_CHECK(file_ != nullptr, "read_idx: cannot open ", path);
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  /// Reads exactly `nbytes`; `what` names the part of the file in the error.
  void read(void* out, std::size_t nbytes, const char* what) {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t done = 0;
    while (done < nbytes) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(nbytes - done, 1u << 30));
      const int got = gzread(file_, p + done, chunk);
      if (got < 0) {
        int code = 0;
        NUDGE_FAIL("read_idx: ", path_, ": corrupt gzip data while reading the ", what, ": ", gzerror(file_, &code));
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    NUDGE_CHECK(done == nbytes, "read_idx: ", path_, " is truncated: the ", what, " needs ", nbytes,
                " bytes, the file has ", done);
  }
  /// True when nothing follows the data.
  bool at_end() {
    unsigned char extra;
    return gzread(file_, &extra, 1) == 0;
  }

 private:
  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian_u32(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

/// Element types of IDX, by the magic number's third byte.
struct IdxType {
  unsigned char code;
  const char* name;
  std::size_t size;
};
constexpr std::array<IdxType, 6> kIdxTypes{{{0x08, "uint8", 1},
                                            {0x09, "int8", 1},
                                            {0x0B, "int16", 2},
                                            {0x0C, "int32", 4},
                                            {0x0D, "float32", 4},
                                            {0x0E, "float64", 8}}};

/// Element i of big-endian raw data of IDX type `code`, as a double.
double element(const unsigned char* raw, std::size_t i, unsigned char code) {
  switch (code) {
    case 0x08: return raw[i];
    case 0x09: return static_cast<std::int8_t>(raw[i]);
    case 0x0B: {
      const unsigned char* b = raw + 2 * i;
      return static_cast<std::int16_t>((b[0] << 8) | b[1]);
    }
    case 0x0C: return static_cast<std::int32_t>(big_endian_u32(raw + 4 * i));
    case 0x0D: {
      const std::uint32_t bits = big_endian_u32(raw + 4 * i);
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    default: {
      const std::uint64_t bits = (std::uint64_t{big_endian_u32(raw + 8 * i)} << 32) | big_endian_u32(raw + 8 * i + 4);
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
    }
  }
}

template <class T> void convert(const std::vector<unsigned char>& raw, unsigned char code, Tensor& out) {
  T* dst = out.data_ptr<T>();
  const auto n = static_cast<std::size_t>(out.numel());
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(element(raw.data(), i, code));
}

std::string first_existing(const std::string& directory, const std::string& name) {
  for (const std::string& candidate : {name + ".gz", name}) {
    const std::filesystem::path path = std::filesystem::path(directory) / candidate;
    if (std::filesystem::exists(path)) return path.string();
  }
  NUDGE_FAIL("load_mnist: neither ", name, ".gz nor ", name, " exists in ", directory);
}

}  // namespace

Tensor read_idx(const std::string& path, DType dtype) {
  GzFile file(path);
  unsigned char magic[4];
  file.read(magic, 4, "magic number");
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes)
    if (t.code == magic[2]) type = &t;
  if (magic[0] != 0 || magic[1] != 0 || type == nullptr || magic[3] < 1 || magic[3] > 8) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", big_endian_u32(magic));
    NUDGE_FAIL("read_idx: ", path, ": wrong magic number ", hex,
               ", not an IDX file (expected 0x0000TTDD: type TT in 08..0E, DD = 1 to 8 dims)");
  }
  Shape shape(magic[3]);
  std::vector<unsigned char> dims(4 * shape.size());
  file.read(dims.data(), dims.size(), "dimension sizes");
  std::size_t numel = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    shape[d] = big_endian_u32(&dims[4 * d]);
    numel *= static_cast<std::size_t>(shape[d]);
  }
  std::vector<unsigned char> raw(numel * type->size);
  file.read(raw.data(), raw.size(), (std::string(type->name) + " data of shape " + shape_str(shape)).c_str());
  NUDGE_CHECK(file.at_end(), "read_idx: ", path, ": unexpected bytes after the ", shape_str(shape), " ", type->name,
              " data");
  Tensor out = empty(shape, TensorOptions(dtype));
  visit_dtype(dtype, [&](auto tag) { convert<decltype(tag)>(raw, type->code, out); });
  return out;
}

TensorDataset load_mnist(const std::string& directory, MnistSplit split) {
  const std::string prefix = split == MnistSplit::Train ? "train" : "t10k";
  const std::string images_path = first_existing(directory, prefix + "-images-idx3-ubyte");
  const std::string labels_path = first_existing(directory, prefix + "-labels-idx1-ubyte");
  Tensor images = read_idx(images_path, kFloat32);
  Tensor labels = read_idx(labels_path, kInt64);
  NUDGE_CHECK(images.dim() == 3, "load_mnist: ", images_path, " should hold [N, rows, cols] images, got shape ",
              shape_str(images.shape()));
  NUDGE_CHECK(labels.dim() == 1, "load_mnist: ", labels_path, " should hold [N] labels, got shape ",
              shape_str(labels.shape()));
  NUDGE_CHECK(images.size(0) == labels.size(0), "load_mnist: ", images_path, " has ", images.size(0), " images but ",
              labels_path, " has ", labels.size(0), " labels");
  return TensorDataset(images.reshape({images.size(0), -1}) / 255.0, labels);
}

}  // namespace nudge::data
