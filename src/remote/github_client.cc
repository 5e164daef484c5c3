#include "remote/github_client.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cctype>

#include "remote/hub_client.h"

namespace vectorize::remote {
namespace json = boost::json;

Status ValidateGitHubName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 100)
    return Fail(Error::InvalidArgument(field + " must be 1 to 100 characters"));
  if (name == "." || name == "..")
    return Fail(Error::InvalidArgument(field + " may not be \".\" or \"..\""));
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.'))
      return Fail(
          Error::InvalidArgument(field + " may contain only letters, digits, '-', '_' and '.'"));
  }
  return {};
}

GitHubClient::GitHubClient(const HttpClient& http, std::string api_url, std::string token)
    : http_(http), api_(std::move(api_url)), token_(std::move(token)) {
  while (!api_.empty() && api_.back() == '/') api_.pop_back();
}

RequestOptions GitHubClient::Request(const std::function<bool()>& cancelled) const {
  RequestOptions r;
  r.bearer_token = token_;
  r.cancelled = cancelled;
  r.headers.emplace_back("Accept", "application/vnd.github+json");
  r.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
  return r;
}

Result<GitHubRepo> GitHubClient::GetRepo(const std::string& owner, const std::string& repo,
                                         const std::function<bool()>& cancelled) const {
  if (auto s = ValidateGitHubName(owner, "owner"); !s) return Fail(s.error());
  if (auto s = ValidateGitHubName(repo, "repo_name"); !s) return Fail(s.error());
  auto resp = http_.GetRaw(fmt::format("{}/repos/{}/{}", api_, owner, repo), Request(cancelled));
  if (!resp) return Fail(resp.error());
  if (resp->status == 404)
    return Fail(Error::NotFound(
        fmt::format("GitHub repository {}/{} not found{}", owner, repo,
                    token_.empty() ? " (if it is private, set GITHUB_TOKEN)" : "")));
  if (resp->status == 401 || resp->status == 403)
    return Fail(Error::FailedPrecondition(fmt::format(
        "GitHub refused access to {}/{} (HTTP {}): check GITHUB_TOKEN or the rate limit", owner,
        repo, resp->status)));
  if (resp->status < 200 || resp->status >= 300)
    return Fail(StatusError(resp->status, fmt::format("GitHub repository {}/{}", owner, repo)));
  try {
    auto v = json::parse(resp->body);
    const auto& o = v.as_object();
    GitHubRepo r;
    r.full_name = std::string(o.at("full_name").as_string());
    if (auto it = o.find("default_branch"); it != o.end() && it->value().is_string())
      r.default_branch = std::string(it->value().as_string());
    if (auto it = o.find("private"); it != o.end() && it->value().is_bool())
      r.is_private = it->value().as_bool();
    return r;
  } catch (const std::exception&) {
    return Fail(Error::Unavailable("GitHub answered with invalid JSON for " + owner + "/" + repo));
  }
}

Result<std::string> GitHubClient::ResolveRef(const std::string& owner, const std::string& repo,
                                             const std::string& ref,
                                             const std::function<bool()>& cancelled) const {
  if (auto s = ValidateGitHubName(owner, "owner"); !s) return Fail(s.error());
  if (auto s = ValidateGitHubName(repo, "repo_name"); !s) return Fail(s.error());
  if (auto s = ValidateRevision(ref); !s) return Fail(s.error());
  auto resp = http_.GetRaw(
      fmt::format("{}/repos/{}/{}/commits/{}", api_, owner, repo, EncodePathSegment(ref)),
      Request(cancelled));
  if (!resp) return Fail(resp.error());
  // 422: "No commit found for SHA"; 404: no such repository.
  if (resp->status == 404 || resp->status == 422 || resp->status == 409)
    return Fail(Error::NotFound(fmt::format(
        "GitHub repository {}/{} has no branch, tag or commit \"{}\"", owner, repo, ref)));
  if (resp->status == 401 || resp->status == 403)
    return Fail(Error::FailedPrecondition(fmt::format(
        "GitHub refused access to {}/{} (HTTP {}): check GITHUB_TOKEN or the rate limit", owner,
        repo, resp->status)));
  if (resp->status < 200 || resp->status >= 300)
    return Fail(StatusError(resp->status, fmt::format("GitHub ref {} of {}/{}", ref, owner, repo)));
  try {
    auto v = json::parse(resp->body);
    std::string sha(v.as_object().at("sha").as_string());
    if (sha.size() < 7) throw std::runtime_error("short sha");
    return sha;
  } catch (const std::exception&) {
    return Fail(Error::Unavailable("GitHub answered with invalid JSON for ref " + ref));
  }
}

Result<GitHubTree> GitHubClient::ListTree(const std::string& owner, const std::string& repo,
                                          const std::string& sha,
                                          const std::function<bool()>& cancelled) const {
  if (auto s = ValidateGitHubName(owner, "owner"); !s) return Fail(s.error());
  if (auto s = ValidateGitHubName(repo, "repo_name"); !s) return Fail(s.error());
  if (auto s = ValidateRevision(sha); !s) return Fail(s.error());
  auto resp = http_.GetRaw(fmt::format("{}/repos/{}/{}/git/trees/{}?recursive=1", api_, owner, repo,
                                       EncodePathSegment(sha)),
                           Request(cancelled));
  if (!resp) return Fail(resp.error());
  if (resp->status == 404 || resp->status == 422 || resp->status == 409)
    return Fail(Error::NotFound(fmt::format("GitHub has no tree {} in {}/{}", sha, owner, repo)));
  if (resp->status < 200 || resp->status >= 300)
    return Fail(StatusError(resp->status, fmt::format("GitHub tree of {}/{}", owner, repo)));
  try {
    auto v = json::parse(resp->body);
    const auto& o = v.as_object();
    GitHubTree tree;
    if (auto it = o.find("truncated"); it != o.end() && it->value().is_bool())
      tree.truncated = it->value().as_bool();
    for (const auto& e : o.at("tree").as_array()) {
      const auto& entry = e.as_object();
      auto type = entry.find("type");
      if (type == entry.end() || !type->value().is_string() || type->value().as_string() != "blob")
        continue;
      tree.files.emplace_back(entry.at("path").as_string());
    }
    return tree;
  } catch (const std::exception&) {
    return Fail(Error::Unavailable("GitHub answered a tree listing with invalid JSON"));
  }
}

Result<DownloadResult> GitHubClient::DownloadTarball(const std::string& owner,
                                                     const std::string& repo,
                                                     const std::string& ref,
                                                     const std::filesystem::path& dest,
                                                     const DownloadOptions& options) const {
  if (auto s = ValidateGitHubName(owner, "owner"); !s) return Fail(s.error());
  if (auto s = ValidateGitHubName(repo, "repo_name"); !s) return Fail(s.error());
  if (auto s = ValidateRevision(ref); !s) return Fail(s.error());
  DownloadOptions opts = options;
  RequestOptions base = Request(options.request.cancelled);
  opts.request.bearer_token = base.bearer_token;
  for (auto& h : base.headers) opts.request.headers.push_back(h);
  auto r = http_.Download(
      fmt::format("{}/repos/{}/{}/tarball/{}", api_, owner, repo, EncodePathSegment(ref)), dest,
      opts);
  if (!r && r.error().code == ErrorCode::kNotFound)
    return Fail(
        Error::NotFound(fmt::format("GitHub has no tarball of {}/{} at \"{}\"", owner, repo, ref)));
  return r;
}

}  // namespace vectorize::remote
