#include "core/error.h"

#include <filesystem>

namespace nudge::detail {

std::string with_location(const char* file, int line, const std::string& message) {
  // Only the file name: full build paths make messages long and machine-specific.
  const std::string name = std::filesystem::path(file).filename().string();
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on `message + " [" + ...`.
  std::string located = message;
  located.append(" [").append(name).append(":").append(std::to_string(line)).append("]");
  return located;
}

}  // namespace nudge::detail
