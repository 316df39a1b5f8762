#include "serialization/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/error.h"

namespace nudge::serialization {

namespace {

/// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  /// Closes now, reporting the error a deferred write may only show here.
  int close() {
    const int fd = std::exchange(fd_, -1);
    return fd < 0 ? 0 : ::close(fd);
  }

 private:
  int fd_;
};

std::string system_reason() { return std::strerror(errno); }

/// ".name.tmp-": how the name of every temporary file written for `target` starts (mkstemp adds
/// six characters). Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
/// "." + name + ".tmp-".
std::string temp_name_prefix(const std::filesystem::path& target) {
  std::string prefix = ".";
  prefix.append(target.filename().string()).append(".tmp-");
  return prefix;
}

/// Removes temporary files of `target` left by writers that were killed mid-write. A temporary
/// file is only ever renamed, never reopened, so any that exists now is garbage (two processes
/// saving the same path at once is already a race on the path itself).
void remove_stale_temporaries(const std::filesystem::path& target) {
  const std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
  const std::string prefix = temp_name_prefix(target);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0)
      std::filesystem::remove(entry.path(), ec);
  }
}

void write_all(int fd, const void* bytes, std::size_t n, const std::string& path, const char* who) {
  const auto* p = static_cast<const char*>(bytes);
  while (n > 0) {
    const ssize_t written = ::write(fd, p, n);
    if (written < 0 && errno == EINTR) continue;
    NUDGE_CHECK_AS(IOError, written > 0, who, ": writing ", path, " failed: ", system_reason());
    p += written;
    n -= static_cast<std::size_t>(written);
  }
}

}  // namespace

std::string read_file(const std::string& path, const char* who) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  NUDGE_CHECK_AS(IOError, fd.get() >= 0, who, ": cannot open ", path, ": ", system_reason());
  struct stat info {};
  NUDGE_CHECK_AS(IOError, ::fstat(fd.get(), &info) == 0, who, ": cannot stat ", path, ": ", system_reason());
  NUDGE_CHECK_AS(IOError, S_ISREG(info.st_mode), who, ": ", path, " is not a regular file",
                 S_ISDIR(info.st_mode) ? " (it is a directory)" : "");
  std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    NUDGE_CHECK_AS(IOError, got >= 0, who, ": reading ", path, " failed: ", system_reason());
    if (got == 0) break;  // the file shrank while being read
    done += static_cast<std::size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

void write_file_atomically(const std::string& path, const ByteChunks& chunks, const char* who) {
  const std::filesystem::path target(path);
  NUDGE_CHECK_AS(IOError, !target.filename().empty(), who, ": \"", path, "\" names a directory, not a file");
  remove_stale_temporaries(target);
  std::string temp = (target.parent_path() / temp_name_prefix(target)).string().append("XXXXXX");
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  NUDGE_CHECK_AS(IOError, fd.get() >= 0, who, ": cannot create a temporary file next to ", path, ": ", system_reason());
  try {
    for (const auto& [bytes, n] : chunks) write_all(fd.get(), bytes, n, path, who);
    NUDGE_CHECK_AS(IOError, ::fsync(fd.get()) == 0, who, ": flushing ", path, " to disk failed: ", system_reason());
    // mkstemp creates 0600; a checkpoint is an ordinary file.
    ::fchmod(fd.get(), 0644);
    NUDGE_CHECK_AS(IOError, fd.close() == 0, who, ": closing ", path, " failed: ", system_reason());
    NUDGE_CHECK_AS(IOError, ::rename(temp.c_str(), path.c_str()) == 0, who, ": cannot rename the temporary file to ",
                   path, ": ", system_reason());
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  // The rename is durable only once the directory entry is: without this, a power loss can bring
  // back the old file (or none) even though the new one was fsynced.
  const std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  NUDGE_CHECK_AS(IOError, dir_fd.get() >= 0 && ::fsync(dir_fd.get()) == 0, who, ": syncing the directory of ", path,
                 " failed: ", system_reason());
}

}  // namespace nudge::serialization
