#include "data/idx.h"

#include <zlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "serialization/file_io.h"

namespace nudge::data {

namespace {

/// The bytes of an IDX file, plain or gzip-compressed, read front to back. Every size a header
/// claims is checked against what the file can hold before anything is allocated for it.
class IdxBytes {
 public:
  IdxBytes(std::string_view file, const std::string& source) : file_(file), source_(source) {
    gzip_ =
        file.size() >= 2 && static_cast<unsigned char>(file[0]) == 0x1f && static_cast<unsigned char>(file[1]) == 0x8b;
    if (!gzip_) return;
    // 16 + MAX_WBITS: a gzip stream only, whose trailer (CRC-32 and length) inflate verifies.
    NUDGE_CHECK_AS(FormatError, inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK, "read_idx: ", source,
                   ": zlib cannot start decompressing");
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data()));
    stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(file.size(), kChunk));
    consumed_ = stream_.avail_in;
  }
  ~IdxBytes() {
    if (gzip_) inflateEnd(&stream_);
  }
  IdxBytes(const IdxBytes&) = delete;
  IdxBytes& operator=(const IdxBytes&) = delete;

  bool compressed() const { return gzip_; }
  /// The most bytes the rest of the file could still produce (deflate expands by at most 1032x).
  std::uint64_t max_remaining() const {
    const std::uint64_t left = file_.size() - (gzip_ ? consumed_ - stream_.avail_in : position_);
    return gzip_ ? left * 1032 + 1024 : left;
  }

  /// Reads exactly `n` bytes; `what` names the part of the file in the error.
  void read(unsigned char* out, std::size_t n, const std::string& what) {
    if (!gzip_) {
      NUDGE_CHECK_AS(FormatError, n <= file_.size() - position_, "read_idx: ", source_, " is truncated: the ", what,
                     " needs ", n, " bytes, the file has ", file_.size() - position_);
      if (n > 0) std::memcpy(out, file_.data() + position_, n);  // `out` may be null for no bytes
      position_ += n;
      return;
    }
    std::size_t done = 0;
    while (done < n) {
      stream_.next_out = out + done;
      stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - done, kChunk));
      const std::size_t asked = stream_.avail_out;
      const int status = inflate_step();
      done += asked - stream_.avail_out;
      if (status == Z_STREAM_END || (status == Z_BUF_ERROR && stream_.avail_in == 0)) break;
    }
    NUDGE_CHECK_AS(FormatError, done == n, "read_idx: ", source_, " is truncated: the ", what, " needs ", n,
                   " bytes, the decompressed file has ", done);
  }

  /// Checks that nothing follows the data and, for gzip, that the stream ends with its trailer
  /// (whose CRC-32 and length inflate verifies).
  void finish(const std::string& what) {
    if (!gzip_) {
      NUDGE_CHECK_AS(FormatError, position_ == file_.size(), "read_idx: ", source_, ": ", file_.size() - position_,
                     " unexpected bytes after the ", what);
      return;
    }
    unsigned char extra = 0;
    while (true) {
      stream_.next_out = &extra;
      stream_.avail_out = 1;
      const int status = inflate_step();
      NUDGE_CHECK_AS(FormatError, stream_.avail_out == 1, "read_idx: ", source_, ": unexpected bytes after the ", what);
      if (status == Z_STREAM_END) break;
      NUDGE_CHECK_AS(FormatError, !(status == Z_BUF_ERROR && stream_.avail_in == 0), "read_idx: ", source_,
                     " is truncated: the gzip stream ends before its trailer (CRC-32 and length)");
    }
    NUDGE_CHECK_AS(FormatError, stream_.avail_in == 0 && consumed_ == file_.size(), "read_idx: ", source_, ": ",
                   file_.size() - consumed_ + stream_.avail_in, " bytes after the end of the gzip stream");
  }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 30;

  /// One inflate call, feeding the next input chunk when the current one is used up.
  int inflate_step() {
    if (stream_.avail_in == 0 && consumed_ < file_.size()) {
      stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file_.data() + consumed_));
      stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(file_.size() - consumed_, kChunk));
      consumed_ += stream_.avail_in;
    }
    const int status = inflate(&stream_, Z_NO_FLUSH);
    NUDGE_CHECK_AS(FormatError, status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
                   "read_idx: ", source_,
                   ": corrupt gzip data: ", stream_.msg != nullptr ? stream_.msg : zError(status));
    return status;
  }

  std::string_view file_;
  std::string source_;
  bool gzip_ = false;
  std::size_t position_ = 0;  // plain files
  z_stream stream_{};         // gzip files
  std::size_t consumed_ = 0;  // input bytes handed to zlib so far
};

std::uint32_t big_endian_u32(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

/// Element types of IDX, by the magic number's third byte.
struct IdxType {
  unsigned char code;
  const char* name;
  std::size_t size;
  bool floating;
};
constexpr std::array<IdxType, 6> kIdxTypes{{{0x08, "uint8", 1, false},
                                            {0x09, "int8", 1, false},
                                            {0x0B, "int16", 2, false},
                                            {0x0C, "int32", 4, false},
                                            {0x0D, "float32", 4, true},
                                            {0x0E, "float64", 8, true}}};

/// Element i of big-endian raw data of IDX type `code`, as a double (exact for every type).
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

template <class T>
void convert(const std::vector<unsigned char>& raw, const IdxType& type, Tensor& out, const std::string& source) {
  T* dst = out.data_ptr<T>();
  const auto n = static_cast<std::size_t>(out.numel());
  for (std::size_t i = 0; i < n; ++i) {
    const double value = element(raw.data(), i, type.code);
    if constexpr (std::is_integral_v<T>) {
      // Float data read as integers: only exact integers in range (a cast would be undefined, and
      // truncating a NaN or 1e30 into a label is garbage, not data).
      NUDGE_CHECK_AS(FormatError, !type.floating || (std::trunc(value) == value && value >= -0x1p63 && value < 0x1p63),
                     "read_idx: ", source, ": element ", i, " is ", value, ", which is not an int64 value");
    }
    dst[i] = static_cast<T>(value);
  }
}

std::string first_existing(const std::string& directory, const std::string& name) {
  for (const std::string& candidate : {name + ".gz", name}) {
    const std::filesystem::path path = std::filesystem::path(directory) / candidate;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path.string();
  }
  NUDGE_FAIL_AS(IOError, "load_mnist: neither ", name, ".gz nor ", name, " exists in ", directory);
}

}  // namespace

Tensor read_idx(const std::string& path, DType dtype) {
  return parse_idx(serialization::read_file(path, "read_idx"), path, dtype);
}

Tensor parse_idx(std::string_view file, const std::string& source, DType dtype) {
  IdxBytes bytes(file, source);
  unsigned char magic[4];
  bytes.read(magic, 4, "magic number");
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes)
    if (t.code == magic[2]) type = &t;
  if (magic[0] != 0 || magic[1] != 0 || type == nullptr || magic[3] < 1 || magic[3] > 8) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", big_endian_u32(magic));
    NUDGE_FAIL_AS(FormatError, "read_idx: ", source, ": wrong magic number ", hex,
                  ", not an IDX file (expected 0x0000TTDD: type TT in 08..0E, DD = 1 to 8 dims)");
  }
  Shape shape(magic[3]);
  std::vector<unsigned char> dims(4 * shape.size());
  bytes.read(dims.data(), dims.size(), "dimension sizes");
  for (std::size_t d = 0; d < shape.size(); ++d) shape[d] = big_endian_u32(&dims[4 * d]);
  const std::string what = std::string(type->name) + " data of shape " + shape_str(shape);

  // The size the header claims, checked before anything is allocated for it: against overflow,
  // and against what the rest of the file can hold.
  try {
    (void)nbytes_of(shape, std::max(type->size, itemsize(dtype)));  // both the raw data and the tensor fit
  } catch (const Error&) {
    NUDGE_FAIL_AS(FormatError, "read_idx: ", source, ": the header claims ", what,
                  ", whose size overflows (not an IDX file?)");
  }
  const auto raw_bytes = static_cast<std::uint64_t>(numel_of(shape)) * type->size;
  NUDGE_CHECK_AS(FormatError, raw_bytes <= bytes.max_remaining(), "read_idx: ", source, " is truncated: the ", what,
                 " needs ", raw_bytes, " bytes, the file has ", bytes.compressed() ? "at most " : "",
                 bytes.max_remaining(), bytes.compressed() ? " once decompressed" : "");
  std::vector<unsigned char> raw(raw_bytes);
  bytes.read(raw.data(), raw.size(), what);
  bytes.finish(what);
  Tensor out = empty(shape, TensorOptions(dtype));
  visit_dtype(dtype, [&](auto tag) { convert<decltype(tag)>(raw, *type, out, source); });
  return out;
}

TensorDataset load_mnist(const std::string& directory, MnistSplit split) {
  constexpr std::int64_t kClasses = 10;
  const std::string prefix = split == MnistSplit::Train ? "train" : "t10k";
  const std::string images_path = first_existing(directory, prefix + "-images-idx3-ubyte");
  const std::string labels_path = first_existing(directory, prefix + "-labels-idx1-ubyte");
  Tensor images = read_idx(images_path, kFloat32);
  Tensor labels = read_idx(labels_path, kInt64);
  NUDGE_CHECK_AS(FormatError, images.dim() == 3, "load_mnist: ", images_path,
                 " should hold [N, rows, cols] images, got shape ", shape_str(images.shape()));
  NUDGE_CHECK_AS(FormatError, labels.dim() == 1, "load_mnist: ", labels_path, " should hold [N] labels, got shape ",
                 shape_str(labels.shape()));
  NUDGE_CHECK_AS(FormatError, images.size(0) == labels.size(0), "load_mnist: ", images_path, " has ", images.size(0),
                 " images but ", labels_path, " has ", labels.size(0), " labels");
  const auto* label = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    NUDGE_CHECK_AS(FormatError, label[i] >= 0 && label[i] < kClasses, "load_mnist: ", labels_path, ": label ", i,
                   " is ", label[i], ", not a class of the ", kClasses, " (0 to ", kClasses - 1, ")");
  return TensorDataset(images.reshape({images.size(0), -1}) / 255.0, labels);
}

}  // namespace nudge::data
