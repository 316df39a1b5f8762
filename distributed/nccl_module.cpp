// Loads libnudge_distributed_nccl.so from the folder of libnudge_distributed itself, on the first
// collective of a CUDA tensor (cuda_communicator.h).
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "cuda_communicator.h"

namespace nudge::distributed {

namespace {

NcclModule load() {
#ifndef NUDGE_WITH_NCCL
  throw DistributedError("distributed: CUDA tensors need NCCL, and nudge was built without it (no CUDA toolkit)");
#else
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&nccl_module), &self) == 0 || self.dli_fname == nullptr)
    throw DistributedError("distributed: cannot find the NCCL module: dladdr cannot name libnudge_distributed's file");
  const std::string own = self.dli_fname;
  const std::string path = own.substr(0, own.find_last_of('/') + 1) + "libnudge_distributed_nccl.so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw DistributedError("distributed: CUDA collectives need " + path +
                           ", which could not be loaded: " + (why ? why : "unknown error"));
  }
  NcclModule module;
  module.make_unique_id = reinterpret_cast<decltype(module.make_unique_id)>(dlsym(handle, "nudge_nccl_unique_id"));
  module.make_communicator =
      reinterpret_cast<decltype(module.make_communicator)>(dlsym(handle, "nudge_nccl_make_communicator"));
  if (module.make_unique_id == nullptr || module.make_communicator == nullptr)
    throw DistributedError("distributed: " + path + " lacks its entry points (a stale build?)");
  return module;  // the library stays loaded for the life of the process
#endif
}

}  // namespace

const NcclModule& nccl_module() {
  static std::mutex mutex;
  static std::unique_ptr<NcclModule> module;
  const std::lock_guard lock(mutex);
  if (!module) module = std::make_unique<NcclModule>(load());  // a failed load is retried, and says why again
  return *module;
}

}  // namespace nudge::distributed
