#pragma once
/// Internal: the backend of a world of one process.
#include <string>

#include "backend.h"

namespace nudge::distributed {

/// `why` says why there is one process ("nudge built without MPI").
std::unique_ptr<ProcessGroup::Backend> make_single_process_backend(std::string why);

}  // namespace nudge::distributed
