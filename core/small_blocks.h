#pragma once
/// Small heap blocks (up to 1 KiB) recycled per thread: the memory of a tiny network's tensors and
/// of the objects every op creates (TensorImpl, Storage, autograd nodes).
///
/// A training step of a small network makes and frees dozens of such objects; glibc keeps only 7
/// freed blocks per size per thread, and the rest go through its general free path (coalescing,
/// locks), which cost more than the step's arithmetic. Here each thread keeps up to 64 freed blocks
/// in each of 16 size classes (64, 128, ..., 1024 bytes), so a block freed is the next one handed
/// out. Blocks are 64-byte aligned (a cache line; what AVX-512 loads like) and come from
/// std::aligned_alloc, so any thread may free any block. Under AddressSanitizer nothing is kept: it
/// must see every free to catch a use after it. GCC says ASan with __SANITIZE_ADDRESS__; clang (14,
/// which builds the CI's sanitizer variants) only through __has_feature(address_sanitizer).
#include <cstddef>
#include <memory>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define NUDGE_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NUDGE_ADDRESS_SANITIZER 1
#endif
#endif

namespace nudge::small_blocks {

#if defined(NUDGE_ADDRESS_SANITIZER)
inline constexpr std::size_t kMaxBytes = 0;
#else
inline constexpr std::size_t kMaxBytes = 1024;
#endif
inline constexpr std::size_t kAlignment = 64;

/// A 64-byte aligned block of at least `nbytes` (1 <= nbytes <= kMaxBytes), or null when out of
/// memory.
void* allocate(std::size_t nbytes) noexcept;
/// Returns a block from allocate(nbytes) (the same nbytes), on any thread.
void deallocate(void* p, std::size_t nbytes) noexcept;

/// A standard allocator over the small blocks, for std::allocate_shared of the objects made on the
/// hot path; larger requests go to operator new.
template <class T> struct Allocator {
  using value_type = T;
  Allocator() noexcept = default;
  template <class U> Allocator(const Allocator<U>&) noexcept {}  // NOLINT: rebinding, as allocate_shared does

  T* allocate(std::size_t n) {
    const std::size_t nbytes = n * sizeof(T);
    if (alignof(T) <= kAlignment && nbytes != 0 && nbytes <= kMaxBytes && n <= kMaxBytes) {
      if (void* p = small_blocks::allocate(nbytes)) return static_cast<T*>(p);
      throw std::bad_alloc();
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t nbytes = n * sizeof(T);
    if (alignof(T) <= kAlignment && nbytes != 0 && nbytes <= kMaxBytes && n <= kMaxBytes)
      small_blocks::deallocate(p, nbytes);
    else std::allocator<T>().deallocate(p, n);
  }
  template <class U> bool operator==(const Allocator<U>&) const noexcept { return true; }
};

/// std::make_shared, with the object and its reference counts in one small block.
template <class T, class... Args> std::shared_ptr<T> make_shared(Args&&... args) {
  return std::allocate_shared<T>(Allocator<T>(), std::forward<Args>(args)...);
}

}  // namespace nudge::small_blocks
