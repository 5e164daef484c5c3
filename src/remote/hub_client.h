#pragma once
// A client of the Hugging Face Hub's HTTP API (the subset Vectorize imports through): repository
// metadata of models and datasets, file listings, and verified file downloads.
//
//   model info     GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
//   dataset info   GET {endpoint}/api/datasets/{repo}/revision/{rev}?blobs=true
//   dataset tree   GET {endpoint}/api/datasets/{repo}/tree/{rev}/{path}?recursive=true
//                  (paginated with a Link: <…>; rel="next" header)
//   model file     GET {endpoint}/{repo}/resolve/{rev}/{path}
//   dataset file   GET {endpoint}/datasets/{repo}/resolve/{rev}/{path}
// Files stored with LFS redirect to a CDN; the Authorization header is not sent there.
//
// Errors: as HttpClient; not_found carries a message naming the repository or revision;
// invalid_argument for malformed repository ids and revisions (checked before any request);
// failed_precondition for private/gated repositories without access; aborted for a checksum or
// size mismatch after download (the bad file is deleted).
// Thread safety: immutable after construction; safe from any thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "remote/http_client.h"

namespace vectorize::remote {

struct HubFile {
  std::string path;                    // "1_Pooling/config.json"
  std::optional<std::uint64_t> size;   // bytes (LFS size for LFS files)
  std::optional<std::string> sha256;   // LFS files only (lowercase hex)
  std::optional<std::string> blob_id;  // git blob sha1 (non-LFS files)
};

struct HubRepoInfo {
  std::string id;   // "org/name"
  std::string sha;  // the commit the revision resolved to
  bool is_private = false;
  bool gated = false;
  std::vector<HubFile> files;
};

enum class HubRepoKind { kModel, kDataset };

class HubClient {
 public:
  // REQUIRES: http outlives the client. endpoint e.g. "https://huggingface.co" (no trailing
  // slash needed); token empty = anonymous.
  HubClient(const HttpClient& http, std::string endpoint, std::string token);

  [[nodiscard]] Result<HubRepoInfo> ModelInfo(const std::string& repo, const std::string& revision,
                                              const std::function<bool()>& cancelled = {}) const;
  [[nodiscard]] Result<HubRepoInfo> DatasetInfo(const std::string& repo,
                                                const std::string& revision,
                                                const std::function<bool()>& cancelled = {}) const;
  // Files under `path` ("" = repository root), recursive; directories are omitted.
  [[nodiscard]] Result<std::vector<HubFile>> DatasetTree(
      const std::string& repo, const std::string& revision, const std::string& path,
      const std::function<bool()>& cancelled = {}) const;

  [[nodiscard]] std::string FileUrl(HubRepoKind kind, const std::string& repo,
                                    const std::string& revision, const std::string& path) const;

  // Downloads one file to dest (resuming a partial dest), then checks its size and, for LFS
  // files, its sha256 (non-LFS: the git blob id when known). A mismatch deletes dest and
  // returns aborted with a message naming the file. Pass the commit sha as revision so every file
  // comes from the same commit.
  [[nodiscard]] Result<DownloadResult> DownloadFile(HubRepoKind kind, const std::string& repo,
                                                    const std::string& revision,
                                                    const HubFile& file,
                                                    const std::filesystem::path& dest,
                                                    const DownloadOptions& options = {}) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<HubRepoInfo> Info(HubRepoKind kind, const std::string& repo, const std::string& revision,
                           const std::function<bool()>& cancelled) const;
  RequestOptions Request(const std::function<bool()>& cancelled) const;

  const HttpClient& http_;
  std::string endpoint_;
  std::string token_;
};

// "org/name" or "name": segments of [A-Za-z0-9._-], not starting or ending with '.' or '-',
// no "..", at most 96 characters each. Errors: invalid_argument naming the problem.
[[nodiscard]] Status ValidateHubRepoId(const std::string& repo);
// A branch, tag or commit: 1..255 printable characters, no "..", no leading '/', no spaces.
[[nodiscard]] Status ValidateRevision(const std::string& revision);

}  // namespace vectorize::remote
