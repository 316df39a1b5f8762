// Host memory: 64-byte aligned blocks (a cache line, and what AVX-512 loads like).
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/cpu/kernels.h"

namespace nudge::cpu {

namespace {

constexpr std::size_t kAlignment = 64;

int device_count(std::string*) { return 1; }

void* allocate(int, std::size_t nbytes) {
  const std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw OutOfMemory("cpu: out of memory allocating " + std::to_string(nbytes) + " bytes");
  return p;
}

void deallocate(int, void* p, std::size_t) noexcept { std::free(p); }

void copy_bytes(void* dst, Device, const void* src, Device, std::size_t nbytes) { std::memcpy(dst, src, nbytes); }

void synchronize(int) {}

}  // namespace

DeviceRuntime runtime() {
  return DeviceRuntime{.device_count = device_count,
                       .allocate = allocate,
                       .deallocate = deallocate,
                       .copy_bytes = copy_bytes,
                       .synchronize = synchronize};
}

}  // namespace nudge::cpu
