// Files that lie (issue "Nothing bad gets in"): every one must be a clean nudge::FormatError or
// nudge::IOError naming the file and the cause, found before anything is allocated for the lie.
// Each case here is a regression input from the hostile-tester report or from fuzzing.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "file_builders.h"
#include "temp_dir.h"
#include "test_util.h"

namespace nudge::testing {
namespace {

TEST(HostileFiles, SafetensorsShapesWhoseSizeOverflowsAreRefused) {
  TempDir dir;
  // Each product wraps to a small byte count in 64 bits (4 bytes, 0 bytes, ...) that the data
  // offsets then "match".
  for (const std::string shape :
       {"[4611686018427387905]", "[4611686018427387904, 4]", "[4294967296, 4294967296]", "[3, 3074457345618258603]"}) {
    const std::string path =
        dir.write("overflow",
                  safetensors_bytes(R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,4]}})", "abcd"));
    EXPECT_TRUE(
        throws_as<FormatError>([&] { serialization::read_safetensors(path); }, {path, "tensor \"w\"", "overflows"}))
        << shape;
  }
  const std::string huge = dir.write("huge", safetensors_bytes(R"({"w":{"dtype":"F32","shape":[18446744073709551615],)"
                                                               R"("data_offsets":[0,4]}})",
                                                               "abcd"));
  EXPECT_TRUE(throws_as<FormatError>([&] { serialization::read_safetensors(huge); }, {"integers from 0 to 2^63-1"}));
}

TEST(HostileFiles, ShapesThatOverflowAreErrorsEverywhere) {
  EXPECT_TRUE(throws_as<Error>([] { empty({4611686018427387904LL, 4}); }, {"more elements than an int64 can count"}));
  EXPECT_TRUE(throws_as<Error>([] { empty({4294967296LL, 4294967296LL}); }, {"[4294967296, 4294967296]"}));
  // An empty tensor has no elements whatever its other dims; its strides must not overflow either.
  EXPECT_TRUE(throws_as<Error>([] { empty({0, 1LL << 40, 1LL << 40}); }, {"more elements than an int64 can count"}));
  EXPECT_EQ(empty({0, 1LL << 30}).numel(), 0);
  const Tensor none = zeros({0});
  EXPECT_TRUE(throws_as<Error>([&] { none.reshape({4294967296LL, 4294967296LL, 0, -1}); }, {"reshape"}));
  EXPECT_TRUE(throws_as<Error>([&] { none.reshape({-1, 4611686018427387904LL, 4}); }, {"int64"}));
}

TEST(HostileFiles, IdxHeadersThatClaimMoreThanTheFileHoldsAllocateNothing) {
  TempDir dir;
  // 65536^4 = 2^64 wraps to 0 elements; 2^31 items with no data; 2^31 x 28 x 28 (1.68 TB);
  // 0xffffffff^2 (std::length_error before). All are refused from the header, before allocating.
  EXPECT_TRUE(throws_as<FormatError>(
      [&] {
        data::read_idx(dir.write("wrap", idx_bytes(0x08, {65536, 65536, 65536, 65536}, "")));
      },
      {"overflows"}));
  EXPECT_TRUE(throws_as<FormatError>([&] { data::read_idx(dir.write("n", idx_bytes(0x08, {0x80000000u}, ""))); },
                                     {"is truncated", "needs 2147483648 bytes", "the file has 0"}));
  EXPECT_TRUE(throws_as<FormatError>(
      [&] {
        data::read_idx(dir.write("tb", idx_bytes(0x08, {0x80000000u, 28, 28}, "x")));
      },
      {"is truncated", "[2147483648, 28, 28]"}));
  EXPECT_TRUE(throws_as<FormatError>(
      [&] {
        data::read_idx(dir.write("ff", idx_bytes(0x0E, {0xffffffffu, 0xffffffffu}, "")));
      },
      {"overflows"}));
  // Compressed: 0x80000000 items claimed by a 40-byte gzip file, which cannot inflate to 2 GB.
  EXPECT_TRUE(
      throws_as<FormatError>([&] { data::read_idx(dir.write("gz", gzip(idx_bytes(0x08, {0x80000000u}, "abc")))); },
                             {"is truncated", "at most", "once decompressed"}));
}

TEST(HostileFiles, GzipIntegrityIsCheckedToTheTrailer) {
  TempDir dir;
  const std::string good = gzip(idx_bytes(0x08, {4}, "abcd"));
  EXPECT_NO_THROW(data::read_idx(dir.write("good.gz", good)));
  // Without its 8-byte trailer (CRC-32 + length) the data decompresses completely: still refused.
  EXPECT_TRUE(throws_as<FormatError>(
      [&] { data::read_idx(dir.write("notrailer.gz", good.substr(0, good.size() - 8))); }, {"truncated", "trailer"}));
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  EXPECT_TRUE(throws_as<FormatError>([&] { data::read_idx(dir.write("crc.gz", bad_crc)); }, {"corrupt gzip data"}));
  EXPECT_TRUE(throws_as<FormatError>([&] { data::read_idx(dir.write("tail.gz", good + "junk")); },
                                     {"after the end of the gzip stream"}));
  // A gzip stream that holds more than its header says.
  EXPECT_TRUE(throws_as<FormatError>([&] { data::read_idx(dir.write("more.gz", gzip(idx_bytes(0x08, {2}, "abcd")))); },
                                     {"unexpected bytes after"}));
}

TEST(HostileFiles, FloatDataReadAsIntegersMustBeExactIntegers) {
  TempDir dir;
  const auto float64_idx = [](double value) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, 8);
    std::string raw;
    for (int shift = 56; shift >= 0; shift -= 8) raw += static_cast<char>((bits >> shift) & 0xFF);
    return idx_bytes(0x0E, {1}, raw);
  };
  EXPECT_TRUE(values_are(data::read_idx(dir.write("ok", float64_idx(-7)), kInt64), {-7}));
  for (double bad : {std::nan(""), HUGE_VAL, 1e30, 2.5, 0x1p63}) {
    const std::string path = dir.write("bad", float64_idx(bad));
    EXPECT_TRUE(throws_as<FormatError>([&] { data::read_idx(path, kInt64); }, {path, "element 0", "not an int64"}))
        << bad;
  }
  // CSV cells, the same rule.
  for (const std::string cell : {"nan", "1e30", "9223372036854775807", "-inf", "0.5"}) {
    EXPECT_TRUE(throws_as<FormatError>([&] { data::parse_csv("a\n" + cell + "\n", {.dtype = kInt64}, "t.csv"); },
                                       {"t.csv line 2, column 1", cell, "not an int64"}))
        << cell;
  }
  EXPECT_TRUE(values_are(data::parse_csv("a\n-9223372036854775808\n", {.dtype = kInt64}).values, {-0x1p63}));
}

TEST(HostileFiles, MnistLabelsMustBeClasses) {
  TempDir dir;
  dir.write("train-images-idx3-ubyte", idx_bytes(0x08, {2, 1, 1}, "ab"));
  dir.write("train-labels-idx1-ubyte", idx_bytes(0x08, {2}, std::string{3, '\xFF'}));
  EXPECT_TRUE(throws_as<FormatError>([&] { data::load_mnist(dir.path(), data::MnistSplit::Train); },
                                     {"train-labels-idx1-ubyte", "label 1 is 255", "0 to 9"}));
}

TEST(HostileFiles, PathsThatAreNotFilesAreIOErrors) {
  TempDir dir;
  std::filesystem::create_directory(dir / "folder");
  EXPECT_TRUE(throws_as<IOError>([&] { serialization::read_safetensors(dir / "folder"); }, {"is a directory"}));
  EXPECT_TRUE(throws_as<IOError>([&] { data::read_idx(dir / "folder"); }, {"read_idx", "is a directory"}));
  EXPECT_TRUE(throws_as<IOError>([&] { data::read_csv(dir / "folder"); }, {"read_csv", "is a directory"}));
  EXPECT_TRUE(throws_as<IOError>([&] { serialization::read_safetensors(dir / "missing"); },
                                 {"cannot open", "No such file or directory"}));
  EXPECT_TRUE(throws_as<IOError>([&] { data::load_mnist(dir / "missing", data::MnistSplit::Test); },
                                 {"t10k-images-idx3-ubyte"}));
  // Writing into a folder that does not exist, or onto a directory.
  EXPECT_TRUE(throws_as<IOError>(
      [&] {
        serialization::write_safetensors(dir / "no/such/x", {{"a", ones({1})}});
      },
      {"cannot create a temporary file", "no/such/x"}));
  EXPECT_TRUE(throws_as<IOError>(
      [&] {
        serialization::write_safetensors(dir / "folder", {{"a", ones({1})}});
      },
      {"folder"}));
}

}  // namespace
}  // namespace nudge::testing
