#include "remote/hub_client.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cctype>

#include "remote/sha256.h"

namespace vectorize::remote {
namespace json = boost::json;
namespace {

std::string_view KindPath(HubRepoKind kind) {
  return kind == HubRepoKind::kModel ? "models" : "datasets";
}

std::optional<std::uint64_t> U64(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64() && it->value().as_int64() >= 0)
    return std::uint64_t(it->value().as_int64());
  if (it->value().is_uint64()) return it->value().as_uint64();
  return std::nullopt;
}

std::optional<std::string> Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

// A sibling ({"rfilename", "size", "blobId", "lfs": {"sha256", "size"}}) or a tree entry
// ({"type", "path", "size", "oid", "lfs": {"oid", "size"}}).
HubFile ParseFile(const json::object& o) {
  HubFile f;
  f.path = Str(o, "rfilename").value_or(Str(o, "path").value_or(""));
  f.size = U64(o, "size");
  f.blob_id = Str(o, "blobId");
  if (!f.blob_id) f.blob_id = Str(o, "oid");
  auto lfs = o.find("lfs");
  if (lfs != o.end() && lfs->value().is_object()) {
    const auto& l = lfs->value().as_object();
    f.sha256 = Str(l, "sha256");
    if (!f.sha256) f.sha256 = Str(l, "oid");
    if (auto s = U64(l, "size")) f.size = s;
    f.blob_id.reset();  // the blob is the pointer file, not the content
  }
  if (f.sha256) {
    for (char& c : *f.sha256) c = char(std::tolower(static_cast<unsigned char>(c)));
  }
  return f;
}

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos) return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    auto slash = p.find('/', start);
    auto seg = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (unsigned char c : p)
    if (c < 0x20) return false;
  return true;
}

// Link: <https://…?cursor=…>; rel="next"
std::optional<std::string> NextLink(const std::string& link) {
  std::size_t pos = 0;
  while (pos < link.size()) {
    auto lt = link.find('<', pos);
    auto gt = link.find('>', lt);
    if (lt == std::string::npos || gt == std::string::npos) break;
    auto end = link.find(',', gt);
    auto params = link.substr(gt + 1, end == std::string::npos ? std::string::npos : end - gt - 1);
    if (params.find("rel=\"next\"") != std::string::npos ||
        params.find("rel=next") != std::string::npos)
      return link.substr(lt + 1, gt - lt - 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace

Status ValidateHubRepoId(const std::string& repo) {
  if (repo.empty()) return Fail(Error::InvalidArgument("repository id is empty"));
  auto slash = repo.find('/');
  std::vector<std::string> parts;
  if (slash == std::string::npos) {
    parts = {repo};
  } else {
    parts = {repo.substr(0, slash), repo.substr(slash + 1)};
    if (parts[1].find('/') != std::string::npos)
      return Fail(Error::InvalidArgument("repository id must be \"org/name\" or \"name\""));
  }
  for (const auto& p : parts) {
    if (p.empty() || p.size() > 96)
      return Fail(Error::InvalidArgument("repository id parts must be 1 to 96 characters"));
    for (unsigned char c : p) {
      if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.'))
        return Fail(Error::InvalidArgument(
            "repository id may contain only letters, digits, '-', '_', '.' and one '/'"));
    }
    if (p.front() == '.' || p.front() == '-' || p.back() == '.' || p.back() == '-' ||
        p.find("..") != std::string::npos)
      return Fail(Error::InvalidArgument(
          "repository id parts may not start or end with '.' or '-' or contain \"..\""));
  }
  return {};
}

Status ValidateRevision(const std::string& rev) {
  if (rev.empty() || rev.size() > 255)
    return Fail(Error::InvalidArgument("revision must be 1 to 255 characters"));
  if (rev.front() == '/' || rev.back() == '/' || rev.find("..") != std::string::npos ||
      rev.find("//") != std::string::npos)
    return Fail(Error::InvalidArgument("revision is not a valid branch, tag or commit"));
  for (unsigned char c : rev) {
    if (c <= 0x20 || c == 0x7f || c == '\\' || c == '?' || c == '#' || c == '~' || c == '^' ||
        c == ':' || c == '*' || c == '[')
      return Fail(Error::InvalidArgument("revision is not a valid branch, tag or commit"));
  }
  return {};
}

HubClient::HubClient(const HttpClient& http, std::string endpoint, std::string token)
    : http_(http), endpoint_(std::move(endpoint)), token_(std::move(token)) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

RequestOptions HubClient::Request(const std::function<bool()>& cancelled) const {
  RequestOptions r;
  r.bearer_token = token_;
  r.cancelled = cancelled;
  r.headers.emplace_back("Accept", "application/json");
  return r;
}

std::string HubClient::FileUrl(HubRepoKind kind, const std::string& repo,
                               const std::string& revision, const std::string& path) const {
  return fmt::format("{}{}/{}/resolve/{}/{}", endpoint_,
                     kind == HubRepoKind::kDataset ? "/datasets" : "", EncodePath(repo),
                     EncodePathSegment(revision), EncodePath(path));
}

Result<HubRepoInfo> HubClient::Info(HubRepoKind kind, const std::string& repo,
                                    const std::string& revision,
                                    const std::function<bool()>& cancelled) const {
  if (auto s = ValidateHubRepoId(repo); !s) return Fail(s.error());
  if (auto s = ValidateRevision(revision); !s) return Fail(s.error());
  const std::string what = kind == HubRepoKind::kModel ? "model" : "dataset";
  std::string url = fmt::format("{}/api/{}/{}/revision/{}?blobs=true", endpoint_, KindPath(kind),
                                EncodePath(repo), EncodePathSegment(revision));
  auto resp = http_.GetRaw(url, Request(cancelled));
  if (!resp) return Fail(resp.error());
  if (resp->status == 404 || resp->status == 401) {
    // The Hub answers 401 for repositories that do not exist (or are private) when anonymous.
    std::string hub_msg;
    try {
      auto v = json::parse(resp->body);
      if (v.is_object()) hub_msg = Str(v.as_object(), "error").value_or("");
    } catch (...) {
    }
    bool revision_missing = resp->Header("x-error-code") == "RevisionNotFound" ||
                            hub_msg.find("evision") != std::string::npos;
    if (revision_missing)
      return Fail(Error::NotFound(
          fmt::format("{} \"{}\" has no revision \"{}\" on the Hub", what, repo, revision)));
    return Fail(Error::NotFound(fmt::format(
        "{} \"{}\" not found on the Hub{}", what, repo,
        resp->status == 401 && token_.empty() ? " (if it is private, set HF_TOKEN)" : "")));
  }
  if (resp->status == 403)
    return Fail(Error::FailedPrecondition(fmt::format(
        "{} \"{}\" is gated or private and the configured HF_TOKEN has no access", what, repo)));
  if (resp->status < 200 || resp->status >= 300)
    return Fail(StatusError(resp->status, "Hub " + what + " info for " + repo));
  HubRepoInfo info;
  try {
    auto v = json::parse(resp->body);
    const auto& o = v.as_object();
    info.id = Str(o, "id").value_or(repo);
    info.sha = Str(o, "sha").value_or("");
    if (auto it = o.find("private"); it != o.end() && it->value().is_bool())
      info.is_private = it->value().as_bool();
    if (auto it = o.find("gated"); it != o.end())
      info.gated = it->value().is_string() || (it->value().is_bool() && it->value().as_bool());
    if (auto it = o.find("siblings"); it != o.end() && it->value().is_array()) {
      for (const auto& s : it->value().as_array()) {
        if (!s.is_object()) continue;
        HubFile f = ParseFile(s.as_object());
        if (SafeRelativePath(f.path)) info.files.push_back(std::move(f));
      }
    }
  } catch (const std::exception& e) {
    return Fail(Error::Unavailable(
        fmt::format("the Hub answered {} info for {} with invalid JSON", what, repo)));
  }
  if (info.sha.empty())
    return Fail(Error::Unavailable(fmt::format("the Hub gave no commit for {} {}", what, repo)));
  return info;
}

Result<HubRepoInfo> HubClient::ModelInfo(const std::string& repo, const std::string& revision,
                                         const std::function<bool()>& cancelled) const {
  return Info(HubRepoKind::kModel, repo, revision, cancelled);
}

Result<HubRepoInfo> HubClient::DatasetInfo(const std::string& repo, const std::string& revision,
                                           const std::function<bool()>& cancelled) const {
  return Info(HubRepoKind::kDataset, repo, revision, cancelled);
}

Result<std::vector<HubFile>> HubClient::DatasetTree(const std::string& repo,
                                                    const std::string& revision,
                                                    const std::string& path,
                                                    const std::function<bool()>& cancelled) const {
  if (auto s = ValidateHubRepoId(repo); !s) return Fail(s.error());
  if (auto s = ValidateRevision(revision); !s) return Fail(s.error());
  if (!path.empty() && !SafeRelativePath(path))
    return Fail(Error::InvalidArgument("path must be relative without \"..\""));
  std::string url =
      fmt::format("{}/api/datasets/{}/tree/{}{}{}?recursive=true", endpoint_, EncodePath(repo),
                  EncodePathSegment(revision), path.empty() ? "" : "/", EncodePath(path));
  std::vector<HubFile> files;
  for (int page = 0; page < 10'000; ++page) {
    auto resp = http_.GetRaw(url, Request(cancelled));
    if (!resp) return Fail(resp.error());
    if (resp->status == 404)
      return Fail(Error::NotFound(
          fmt::format("dataset \"{}\" has no path \"{}\" at \"{}\"", repo, path, revision)));
    if (resp->status < 200 || resp->status >= 300)
      return Fail(StatusError(resp->status, "Hub tree of " + repo));
    try {
      auto v = json::parse(resp->body);
      for (const auto& e : v.as_array()) {
        const auto& o = e.as_object();
        if (Str(o, "type").value_or("file") != "file") continue;
        HubFile f = ParseFile(o);
        if (SafeRelativePath(f.path)) files.push_back(std::move(f));
      }
    } catch (const std::exception&) {
      return Fail(Error::Unavailable("the Hub answered a tree listing with invalid JSON"));
    }
    auto next = NextLink(resp->Header("link"));
    if (!next) break;
    // Follow only links that stay on the configured endpoint.
    if (!next->starts_with(endpoint_ + "/")) break;
    url = *next;
  }
  return files;
}

Result<DownloadResult> HubClient::DownloadFile(HubRepoKind kind, const std::string& repo,
                                               const std::string& revision, const HubFile& file,
                                               const std::filesystem::path& dest,
                                               const DownloadOptions& options) const {
  if (!SafeRelativePath(file.path))
    return Fail(Error::InvalidArgument("unsafe file path \"" + file.path + "\""));
  DownloadOptions opts = options;
  opts.request.bearer_token = token_;
  // Hash LFS files while they stream in (the bytes of a partial file from an earlier attempt
  // first), so verification does not read the whole file again.
  Sha256Stream hasher;
  std::uint64_t hashed = 0;
  bool stream_ok = file.sha256.has_value();
  if (stream_ok) {
    std::error_code ec;
    const auto have = std::filesystem::exists(dest, ec) ? std::filesystem::file_size(dest, ec) : 0;
    if (have > 0) {
      if (auto s = HashFilePrefix(dest, have, hasher, options.request.cancelled); s) {
        hashed = have;
      } else {
        stream_ok = false;
      }
    }
    opts.on_data = [&, prev = options.on_data](std::uint64_t offset, const char* data,
                                               std::size_t len) {
      if (prev) prev(offset, data, len);
      if (!stream_ok) return;
      if (offset == 0 && hashed != 0) {
        hasher.Reset();
        hashed = 0;
      }
      if (offset != hashed) {
        stream_ok = false;  // unexpected gap: verify by reading the file instead
        return;
      }
      hasher.Update(data, len);
      hashed += len;
    };
  }
  auto r = http_.Download(FileUrl(kind, repo, revision, file.path), dest, opts);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound)
      return Fail(Error::NotFound(
          fmt::format("file \"{}\" not found in {} at {}", file.path, repo, revision)));
    return r;
  }
  std::error_code ec;
  auto mismatch = [&](std::string what) -> Result<DownloadResult> {
    std::filesystem::remove(dest, ec);
    return Fail(Error::Aborted(
        fmt::format("{} of \"{}\" from {}: {}", "verification", file.path, repo, what)));
  };
  if (file.size && r->bytes != *file.size)
    return mismatch(fmt::format("size {} bytes, expected {}", r->bytes, *file.size));
  if (file.sha256) {
    Result<std::string> sha = stream_ok && hashed == r->bytes
                                  ? Result<std::string>(hasher.Final())
                                  : Sha256File(dest, options.request.cancelled);
    if (!sha) return Fail(sha.error());
    if (*sha != *file.sha256)
      return mismatch(fmt::format("sha256 {} does not match the Hub's {}", *sha, *file.sha256));
  } else if (file.blob_id && file.blob_id->size() == 40) {
    auto sha1 = GitBlobSha1File(dest);
    if (!sha1) return Fail(sha1.error());
    if (*sha1 != *file.blob_id)
      return mismatch(
          fmt::format("git blob id {} does not match the Hub's {}", *sha1, *file.blob_id));
  }
  return r;
}

}  // namespace vectorize::remote
