#pragma once
// What the footprint probes ask of their own process: is a library mapped into it?
#include <fstream>
#include <string>

namespace nudge::testing {

/// True when a file whose path contains `name` is mapped into this process (/proc/self/maps).
inline bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(name) != std::string::npos) return true;
  return false;
}

}  // namespace nudge::testing
