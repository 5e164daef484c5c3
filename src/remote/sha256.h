#pragma once
// SHA-256 of files, streamed (constant memory), as lowercase hex. Used to verify downloads
// against the Hub's LFS metadata and to fingerprint fixtures.
// Thread safety: free functions, no shared state.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vectorize::remote {

// Errors: internal (unreadable file), cancelled (the check fired between 1 MiB blocks).
[[nodiscard]] Result<std::string> Sha256File(const std::filesystem::path& path,
                                             const std::function<bool()>& cancelled = {});
[[nodiscard]] std::string Sha256Hex(std::string_view data);
// Git's blob id (SHA-1 of "blob <size>\0" + content): the Hub's ETag for non-LFS files.
[[nodiscard]] Result<std::string> GitBlobSha1File(const std::filesystem::path& path);

}  // namespace vectorize::remote
