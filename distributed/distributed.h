#pragma once
/// nudge::distributed: data-parallel training over MPI (CPU tensors) and NCCL (CUDA tensors).
/// Link nudge::distributed; launch with `mpirun -np N ./program` (a plain ./program is one rank).
#include "distributed/checkpoint.h"
#include "distributed/data_parallel.h"
#include "distributed/environment.h"
#include "distributed/metrics.h"
#include "distributed/process_group.h"
