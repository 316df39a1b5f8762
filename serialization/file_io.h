#pragma once
/// Whole-file reads and atomic, durable writes: what every nudge reader and writer of outside
/// data (checkpoints, safetensors, IDX, CSV) goes through, so each I/O failure is one clear
/// nudge::IOError naming the path and the system's reason.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nudge::serialization {

/// The whole of the regular file at `path`. `who` names the caller in errors ("read_idx").
/// A directory, a missing file or a failed read is an IOError; the size comes from the file
/// itself, so nothing is allocated that the file cannot fill.
std::string read_file(const std::string& path, const char* who);

/// Pieces of a file, written in order.
using ByteChunks = std::vector<std::pair<const void*, std::size_t>>;

/// Replaces `path` with `chunks`, atomically and durably: written to a temporary file in the same
/// directory, fsynced, renamed over `path`, and the directory fsynced, so after a crash or a kill
/// at any moment the path holds either the old file or the new one, complete. Temporary files
/// that killed writers of the same path left behind are removed first.
void write_file_atomically(const std::string& path, const ByteChunks& chunks, const char* who);

}  // namespace nudge::serialization
