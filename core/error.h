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

/// A file could not be opened, read, written, synced or renamed: the message names the path and
/// the system's reason ("No such file or directory", "Is a directory", ...).
class IOError : public Error {
 public:
  using Error::Error;
};

/// A file's contents break its format: truncated, a header that lies about sizes, a value that
/// does not fit the requested dtype. The message names the file and where in it.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A value that must be finite is not: a training loss that became NaN or inf, or a model with
/// non-finite weights about to be saved as a checkpoint.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args> std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
/// "<message> [file.cpp:line]"
std::string with_location(const char* file, int line, const std::string& message);
template <class E = Error> [[noreturn]] void throw_error(const char* file, int line, const std::string& message) {
  throw E(with_location(file, line, message));
}
}  // namespace detail

}  // namespace nudge

/// Throws nudge::Error("<message> (at file:line)") when `cond` is false. The message is built
/// by streaming the remaining arguments, only on failure.
#define NUDGE_CHECK(cond, ...)                                                                \
  do {                                                                                        \
    if (!(cond)) [[unlikely]]                                                                 \
      ::nudge::detail::throw_error(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__)); \
  } while (0)

/// NUDGE_CHECK throwing a subclass: NUDGE_CHECK_AS(IOError, fd >= 0, "cannot open ", path).
#define NUDGE_CHECK_AS(ErrorType, cond, ...)                                                             \
  do {                                                                                                   \
    if (!(cond)) [[unlikely]]                                                                            \
      ::nudge::detail::throw_error<ErrorType>(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Throws unconditionally; for branches that are errors by construction.
#define NUDGE_FAIL(...) ::nudge::detail::throw_error(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__))
#define NUDGE_FAIL_AS(ErrorType, ...) \
  ::nudge::detail::throw_error<ErrorType>(__FILE__, __LINE__, ::nudge::detail::concat(__VA_ARGS__))
