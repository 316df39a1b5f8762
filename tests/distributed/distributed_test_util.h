#pragma once
#include <gtest/gtest.h>

#include <nudge/nudge.h>

#include "distributed/distributed.h"
#include "test_util.h"

namespace nudge::testing {

/// The job's environment (tests/distributed/main.cpp).
extern distributed::Environment* environment;
inline distributed::ProcessGroup& group() { return environment->group(); }
inline int rank() { return environment->rank(); }
inline int world() { return environment->world_size(); }

}  // namespace nudge::testing
