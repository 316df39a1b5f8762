#pragma once
/// Temporary device memory for a launcher (the partials of a split reduction), taken from nudge's
/// allocator like any tensor: the caching pool, trim-and-retry, nudge::OutOfMemory, and the
/// graph's private pool during a capture. Freed in stream order when the launcher returns or
/// throws, so kernels queued before the free still see valid memory.
#include <cstddef>

namespace nudge::kernels::cuda {

/// nudge's device allocator (runtime.cpp): what every CUDA Storage uses.
void* device_allocate(int index, std::size_t nbytes);
void device_deallocate(int index, void* ptr, std::size_t nbytes) noexcept;
/// Gives the device pool's cached free blocks back to the driver (after the stream's queued work),
/// for memory that is not nudge's to allocate: a graph launch, a library's own buffers.
void release_cached_memory(int index);

class Scratch {
 public:
  Scratch(int device, std::size_t nbytes)
      : device_(device), nbytes_(nbytes), ptr_(nbytes ? device_allocate(device, nbytes) : nullptr) {}
  ~Scratch() {
    if (ptr_) device_deallocate(device_, ptr_, nbytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  template <class T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  int device_;
  std::size_t nbytes_;
  void* ptr_;
};

}  // namespace nudge::kernels::cuda
