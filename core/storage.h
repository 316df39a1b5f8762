#pragma once
/// A block of device memory shared by a tensor and all of its views, with the version counter
/// that in-place ops bump (autograd uses it to detect a saved tensor modified after the fact).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace nudge {

class CaptureArena;

class Storage {
 public:
  /// Allocates `nbytes` on `device` from that device's allocator (a pool on CUDA; on a thread that
  /// is capturing a CPU Graph, CPU memory comes from the capture's arena, core/graph.h).
  Storage(Device device, std::size_t nbytes);
  /// Page-locked host memory (CPU storage that CUDA copies can read asynchronously); needs a
  /// usable CUDA device.
  struct Pinned {};
  Storage(Pinned, std::size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool is_pinned() const { return pinned_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  Device device_;
  std::size_t nbytes_;
  void* data_;
  bool pinned_ = false;
  std::uint64_t version_ = 0;
  std::shared_ptr<CaptureArena> arena_;  // owns data_ when set
};

namespace memory {
/// Bytes held by live tensor storages on `device` (not the allocator's cache): the number the
/// flat-memory tests watch over long training loops.
std::int64_t live_bytes(Device device);
}  // namespace memory

}  // namespace nudge
