// Loads libnudge with dlopen into a process not linked with it, as Python's ctypes or a plugin host
// would, and prints whether that worked. A library whose thread-locals are reached initial-exec
// (core/hot_thread_local.h) must fit them all in glibc's small static TLS reserve to load this way.
#include <dlfcn.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dlopen_probe PATH_TO_LIBNUDGE\n");
    return 2;
  }
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::printf("dlopen failed: %s\n", dlerror());
    return 1;
  }
  std::printf("dlopen ok\n");
  return 0;
}
