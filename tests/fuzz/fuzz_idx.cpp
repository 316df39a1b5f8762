// libFuzzer harness: arbitrary bytes as an IDX file (plain, or gzip when they start 1f 8b), read
// as float32 and as int64. Only nudge::Errors may come out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nudge/nudge.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (nudge::DType dtype : {nudge::kFloat32, nudge::kInt64}) {
    try {
      nudge::data::parse_idx(bytes, "<fuzz>", dtype);
    } catch (const nudge::Error&) {}
  }
  return 0;
}
