// libFuzzer harness: arbitrary bytes as a safetensors file. Every input must parse or throw a
// nudge::Error; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nudge/nudge.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    nudge::serialization::parse_safetensors(std::string_view(reinterpret_cast<const char*>(data), size), "<fuzz>");
  } catch (const nudge::Error&) {}
  return 0;
}
