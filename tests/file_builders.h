#pragma once
// Bytes of files in nudge's input formats, built by hand (independently of nudge's readers) so
// tests can write valid, broken and hostile ones.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace nudge::testing {

/// An IDX file: magic 0x0000TTDD, big-endian dims, then `data` as given.
inline std::string idx_bytes(unsigned char type, const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((d >> shift) & 0xFF);
  return out + data;
}

/// `bytes` as one gzip member (deflate stream + CRC-32/length trailer).
inline std::string gzip(const std::string& bytes) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// A safetensors file: the 8-byte little-endian length of `json`, `json`, then `data`.
inline std::string safetensors_bytes(const std::string& json, const std::string& data = "") {
  std::string bytes(8, '\0');
  const std::uint64_t n = json.size();
  std::memcpy(bytes.data(), &n, 8);
  return bytes + json + data;
}

}  // namespace nudge::testing
