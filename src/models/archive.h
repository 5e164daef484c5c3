#pragma once
// Safe extraction of uploaded archives (zip from local uploads, tar.gz from GitHub) with
// libarchive, streamed entry by entry (constant memory).
//
// Refused (nothing is left behind: `dest` is removed on any error):
//  - paths that are absolute, contain "..", backslashes or NUL/control characters (zip slip);
//  - symbolic and hard links, devices, FIFOs (skipped silently: a model folder never needs them);
//  - more than max_entries entries, more than max_total_bytes extracted, or an expansion ratio
//    above max_ratio once past 64 MiB (zip bombs).
// Errors: invalid_argument with public code INVALID_FILE (not an archive of the expected
// format, corrupt, unsafe path), PAYLOAD_TOO_LARGE (limits), cancelled, internal (disk).
// Thread safety: free function, no shared state.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/error.h"

namespace vectorize::models {

enum class ArchiveFormat { kZip, kTarGz };

struct ExtractLimits {
  std::uint64_t max_total_bytes = 8ull << 30;
  std::uint64_t max_entries = 20'000;
  double max_ratio = 200.0;
};

struct ExtractResult {
  std::uint64_t bytes = 0;  // extracted
  int files = 0;
};

// REQUIRES: dest does not exist yet (it is created).
[[nodiscard]] Result<ExtractResult> ExtractArchive(const std::filesystem::path& archive,
                                                   ArchiveFormat format,
                                                   const std::filesystem::path& dest,
                                                   const ExtractLimits& limits,
                                                   const std::function<bool()>& cancelled = {});

// Checks one archive entry path; returns the normalised relative path or an error.
[[nodiscard]] Result<std::filesystem::path> SafeEntryPath(std::string_view name);

}  // namespace vectorize::models
