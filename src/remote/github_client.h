#pragma once
// A client of the GitHub REST API (the subset model imports need):
//   repository   GET {api}/repos/{owner}/{repo}
//   a ref        GET {api}/repos/{owner}/{repo}/commits/{ref}   (branch, tag or sha → commit)
//   tarball      GET {api}/repos/{owner}/{repo}/tarball/{ref}   (302 to a download host)
// Requests carry Accept: application/vnd.github+json and X-GitHub-Api-Version; the token (if
// any) goes only to the API host, never to the download host the tarball redirects to.
// Errors: as HttpClient; not_found names the repository or ref; invalid_argument for malformed
// owner/repo/ref (checked before any request); failed_precondition for 401/403 (rate limit or
// a private repository without a token).
// Thread safety: immutable after construction; safe from any thread.

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "remote/http_client.h"

namespace vectorize::remote {

// The files of a commit (GET /repos/{o}/{r}/git/trees/{sha}?recursive=1).
struct GitHubTree {
  std::vector<std::string> files;  // paths of blobs, "/"-separated
  bool truncated = false;          // GitHub lists at most ~100,000 entries
};

struct GitHubRepo {
  std::string full_name;  // "owner/repo"
  std::string default_branch;
  bool is_private = false;
};

class GitHubClient {
 public:
  // REQUIRES: http outlives the client. api_url e.g. "https://api.github.com".
  GitHubClient(const HttpClient& http, std::string api_url, std::string token);

  [[nodiscard]] Result<GitHubRepo> GetRepo(const std::string& owner, const std::string& repo,
                                           const std::function<bool()>& cancelled = {}) const;
  // The commit sha a branch, tag or sha names. Errors: not_found when the ref does not exist.
  [[nodiscard]] Result<std::string> ResolveRef(const std::string& owner, const std::string& repo,
                                               const std::string& ref,
                                               const std::function<bool()>& cancelled = {}) const;
  // Every file path of a commit (pass the resolved sha). Errors: not_found.
  [[nodiscard]] Result<GitHubTree> ListTree(const std::string& owner, const std::string& repo,
                                            const std::string& sha,
                                            const std::function<bool()>& cancelled = {}) const;
  // Streams the gzip tarball of `ref` (pass the resolved sha) to dest, resuming a partial file.
  [[nodiscard]] Result<DownloadResult> DownloadTarball(const std::string& owner,
                                                       const std::string& repo,
                                                       const std::string& ref,
                                                       const std::filesystem::path& dest,
                                                       const DownloadOptions& options = {}) const;

 private:
  RequestOptions Request(const std::function<bool()>& cancelled) const;
  const HttpClient& http_;
  std::string api_;
  std::string token_;
};

// GitHub owner and repository names: 1..100 of [A-Za-z0-9._-], not "." or "..".
[[nodiscard]] Status ValidateGitHubName(const std::string& name, const std::string& field);

}  // namespace vectorize::remote
