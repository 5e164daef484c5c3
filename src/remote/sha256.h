#pragma once
// SHA-256 of files, streamed (constant memory), as lowercase hex. Used to verify downloads
// against the Hub's LFS metadata and to fingerprint fixtures.
// Thread safety: free functions, no shared state.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vectorize::remote {

// Incremental SHA-256 (hash bytes as they arrive). Not thread-safe; one per stream.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Reset();
  void Update(const void* data, std::size_t len);
  // Lowercase hex; the stream must be Reset before further use.
  std::string Final();

 private:
  void* ctx_;
};

// Hashes the first `bytes` of a file into `stream`. Errors: internal, cancelled.
[[nodiscard]] Status HashFilePrefix(const std::filesystem::path& path, std::uint64_t bytes,
                                    Sha256Stream& stream,
                                    const std::function<bool()>& cancelled = {});

// Errors: internal (unreadable file), cancelled (the check fired between 1 MiB blocks).
[[nodiscard]] Result<std::string> Sha256File(const std::filesystem::path& path,
                                             const std::function<bool()>& cancelled = {});
[[nodiscard]] std::string Sha256Hex(std::string_view data);
// Git's blob id (SHA-1 of "blob <size>\0" + content): the Hub's ETag for non-LFS files.
[[nodiscard]] Result<std::string> GitBlobSha1File(const std::filesystem::path& path);

}  // namespace vectorize::remote
