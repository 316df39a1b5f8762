#pragma once
/// Checkpoints of a data-parallel run. DistributedDataParallel keeps every rank's model and
/// optimizer state equal, so rank 0 alone writes; every rank reads the file back.
///
///   distributed::save_checkpoint(env.group(), "run.ckpt", state);   // every rank calls it
///   distributed::load_checkpoint(env.group(), "run.ckpt", state);   // likewise; each rank reads
///
/// Both are collectives: every rank calls them, in the same order as its other collectives, and
/// they return on every rank or throw on every rank -- a failure on one rank never leaves the
/// others training on, to hang at their next all-reduce.
#include <string>

#include "distributed/process_group.h"
#include "serialization/checkpoint.h"

namespace nudge::distributed {

/// Rank 0 writes `state` to `path` with nudge::save_checkpoint (atomic and durable; refuses NaN or
/// inf weights, so a diverged run keeps its last good checkpoint); the other ranks wait until the
/// file is complete. When the write fails, rank 0 throws its own error and every other rank a
/// DistributedError carrying rank 0's message.
void save_checkpoint(ProcessGroup& group, const std::string& path, const TrainingState& state);

/// Every rank restores `path` (on a file system they all see) into its own `state` with
/// nudge::load_checkpoint, so each rank's data loader resumes its own shard at the saved position.
/// Then the ranks check that they restored the same epoch and step (one of them reading another,
/// older file would otherwise train on silently). When a rank fails, that rank throws its own
/// error and the others a DistributedError naming it; the ranks that had loaded keep the loaded
/// state (the run cannot continue in any case). Returns load_checkpoint's one-line account.
std::string load_checkpoint(ProcessGroup& group, const std::string& path, TrainingState& state);

}  // namespace nudge::distributed
