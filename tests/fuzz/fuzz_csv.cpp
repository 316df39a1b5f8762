// libFuzzer harness: arbitrary text as CSV. The first byte picks the options (header or not,
// delimiter, dtype), the rest is the file. Only nudge::Errors may come out.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nudge/nudge.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const nudge::data::CsvOptions options{.delimiter = (data[0] & 1) ? ';' : ',',
                                        .header = (data[0] & 2) != 0,
                                        .dtype = (data[0] & 4) ? nudge::kInt64 : nudge::kFloat64};
  try {
    nudge::data::parse_csv(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), options, "<fuzz>");
  } catch (const nudge::Error&) {}
  return 0;
}
