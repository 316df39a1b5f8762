#pragma once
/// Errors thrown by nudge. Every user-facing failure is a `nudge::Error` whose message names the
/// op and the shapes, dtypes and devices involved, so a bad call explains itself.
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nudge {

/// The one exception type nudge throws for bad input or a failed backend call.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown when a device allocation fails even after the allocator released its cache.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args> std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace nudge

/// Throws nudge::Error("<message> (at file:line)") when `cond` is false. The message is built
/// by streaming the remaining arguments, only on failure.
#define NUDGE_CHECK(cond, ...)                                                                \
  do {                                                                                        \
    if (!(cond)) [[unlikely]]                                                                 \
      ::nudge::detail::throw_error(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Throws unconditionally; for branches that are errors by construction.
#define NUDGE_FAIL(...) ::nudge::detail::throw_error(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__))
