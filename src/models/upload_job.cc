#include "models/upload_job.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <fstream>

#include "models/archive.h"

namespace vectorize::models {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct Inputs {
  char source = 'H';
  std::string tag;
  std::string repo, revision, commit;  // Hub
  std::string owner, repo_name, ref;   // GitHub (commit shared)
  std::string path;
};

Result<Inputs> ParseInputs(const std::string& text) {
  try {
    auto v = json::parse(text);
    const auto& o = v.as_object();
    auto str = [&](const char* k) -> std::string {
      auto* p = o.if_contains(k);
      return p && p->is_string() ? std::string(p->as_string()) : std::string();
    };
    Inputs in;
    auto src = str("source");
    in.source = src.empty() ? 'H' : src[0];
    in.tag = str("tag");
    in.repo = str("repo");
    in.revision = str("revision");
    in.commit = str("commit");
    in.owner = str("owner");
    in.repo_name = str("repo_name");
    in.ref = str("ref");
    in.path = str("path");
    if (in.tag.empty() || (in.source != 'H' && in.source != 'G'))
      return Fail(Error::InvalidArgument("the task's inputs are not a Hub or GitHub import"));
    return in;
  } catch (const std::exception& e) {
    return Fail(
        Error::InvalidArgument(std::string("the task's inputs are not valid JSON: ") + e.what()));
  }
}

std::string Mb(std::uint64_t bytes) { return fmt::format("{:.1f} MB", double(bytes) / 1e6); }

class Run {
 public:
  Run(ModelService& svc, tasks::JobContext& ctx, Inputs in)
      : svc_(svc),
        ctx_(ctx),
        in_(std::move(in)),
        work_(ImportWorkDir(svc.options().data_dir, ctx.task().id)) {}

  Status Execute() {
    if (auto s = EnsureReservation(); !s) return s;
    std::error_code ec;
    fs::create_directories(work_, ec);
    if (ec) return Fail(Error::Internal("cannot create " + work_.string()));
    auto folder = in_.source == 'H' ? DownloadHub() : DownloadGitHub();
    if (!folder) return Fail(folder.error());
    if (auto s = ctx_.CheckCancelled(); !s) return s;
    if (in_.source == 'G') PruneToModelFiles(*folder);
    ctx_.ReportProgress(1.0, "validating the model");
    Model m;
    m.tag = in_.tag;
    m.task_id = ctx_.task().id;
    if (in_.source == 'H') {
      m.name = in_.repo;
      m.source = ModelSource::kHub;
      m.hub_repo = in_.repo;
      m.hub_revision = in_.revision;
      m.hub_commit = in_.commit;
    } else {
      m.name = in_.owner + "/" + in_.repo_name;
      m.source = ModelSource::kGitHub;
      m.github_owner = in_.owner;
      m.github_repo = in_.repo_name;
      m.github_ref = in_.ref;
      if (!in_.path.empty()) m.github_path = in_.path;
    }
    auto installed = InstallModel(svc_.options().data_dir, *folder, m, true, svc_.registry(),
                                  svc_.options().load_check);
    if (!installed) return Fail(installed.error());
    json::object res;
    res["model_tag"] = installed->tag;
    res["model_id"] = installed->id;
    res["size_bytes"] = installed->size_bytes;
    ctx_.SetResult(json::serialize(res));
    ctx_.ReportProgress(1.0, fmt::format("registered as {}", installed->tag));
    spdlog::info("task={} model {} registered ({})", ctx_.task().id, installed->tag,
                 Mb(std::uint64_t(installed->size_bytes)));
    return {};
  }

  // Removes what this run made (work folder; the reservation unless `keep_reservation`).
  void Cleanup(bool keep_reservation) {
    std::error_code ec;
    fs::remove_all(work_, ec);
    if (!keep_reservation) (void)svc_.registry().Release(in_.tag, ctx_.task().id);
  }

 private:
  Status EnsureReservation() {
    auto row = svc_.registry().FindTag(in_.tag);
    if (row) {
      if (row->state == 'I' && row->task_id == ctx_.task().id) return {};
      Error e = Error::AlreadyExists(
          row->state == 'R' ? fmt::format("model with tag \"{}\" already exists", in_.tag)
                            : fmt::format("model \"{}\" is being imported by task {}", in_.tag,
                                          row->task_id.value_or("?")));
      e.public_code = "MODEL_ALREADY_EXISTS";
      return Fail(e);
    }
    if (row.error().code != ErrorCode::kNotFound) return Fail(row.error());
    // A retried task (after F or C) claims its tag again.
    Model m;
    m.tag = in_.tag;
    m.name = in_.source == 'H' ? in_.repo : in_.owner + "/" + in_.repo_name;
    m.source = in_.source == 'H' ? ModelSource::kHub : ModelSource::kGitHub;
    m.task_id = ctx_.task().id;
    return svc_.registry().Reserve(m);
  }

  std::function<bool()> Cancelled() {
    return [this] { return ctx_.IsCancelled(); };
  }

  Result<fs::path> DownloadHub() {
    const auto& hub = svc_.hub();
    ctx_.ReportProgress(std::nullopt, "listing files");
    auto info =
        hub.ModelInfo(in_.repo, in_.commit.empty() ? in_.revision : in_.commit, Cancelled());
    if (!info) {
      if (info.error().code == ErrorCode::kNotFound)
        return Fail(Error::NotFound(info.error().message + " (was it deleted since the upload "
                                                           "was requested?)"));
      return Fail(info.error());
    }
    auto files = SelectHubModelFiles(info->files);
    if (!files) return Fail(files.error());
    std::uint64_t total = 0;
    for (const auto& f : *files) total += f.size.value_or(0);
    if (total > svc_.options().max_model_bytes)
      return Fail(
          Error::InvalidArgument(fmt::format("the model is {} , over the limit of {}", Mb(total),
                                             Mb(svc_.options().max_model_bytes))));
    const fs::path dir = work_ / "files";
    std::uint64_t done = 0;
    for (std::size_t i = 0; i < files->size(); ++i) {
      if (auto s = ctx_.CheckCancelled(); !s) return Fail(s.error());
      const auto& f = (*files)[i];
      const fs::path final_path = dir / f.path;
      const fs::path part = final_path.string() + ".part";
      std::error_code ec;
      if (fs::exists(final_path, ec) && (!f.size || fs::file_size(final_path, ec) == *f.size)) {
        done += f.size.value_or(0);  // verified by an earlier attempt
        continue;
      }
      fs::create_directories(final_path.parent_path(), ec);
      remote::DownloadOptions opts;
      opts.request.cancelled = Cancelled();
      opts.max_bytes = svc_.options().max_model_bytes;
      const std::uint64_t before = done;
      const std::size_t n = files->size();
      opts.progress = [&, before, i, n](std::uint64_t got, std::optional<std::uint64_t>) {
        std::uint64_t now = before + got;
        ctx_.ReportProgress(
            total ? std::optional<double>(std::min(0.999, double(now) / double(total)))
                  : std::nullopt,
            fmt::format("downloading {} ({}/{}), {} of {}", f.path, i + 1, n, Mb(now), Mb(total)));
      };
      auto r = hub.DownloadFile(remote::HubRepoKind::kModel, in_.repo, info->sha, f, part, opts);
      if (!r) {
        if (r.error().code == ErrorCode::kAborted) {
          // Checksum or size mismatch: the file on the Hub is not what its metadata says.
          return Fail(Error::InvalidArgument(
              fmt::format("download failed verification: {}", r.error().message)));
        }
        return Fail(r.error());
      }
      fs::rename(part, final_path, ec);
      if (ec) return Fail(Error::Internal("cannot rename " + part.string()));
      done += r->bytes;
    }
    return dir;
  }

  Result<fs::path> DownloadGitHub() {
    const auto& gh = svc_.github();
    const fs::path tarball = work_ / "repo.tar.gz";
    const fs::path done_marker = work_ / "repo.tar.gz.done";
    std::error_code ec;
    if (!fs::exists(done_marker, ec)) {
      remote::DownloadOptions opts;
      opts.request.cancelled = Cancelled();
      opts.max_bytes = svc_.options().max_model_bytes;
      opts.progress = [&](std::uint64_t got, std::optional<std::uint64_t> total) {
        ctx_.ReportProgress(
            total && *total ? std::optional<double>(std::min(0.999, double(got) / double(*total)))
                            : std::nullopt,
            fmt::format("downloading {}/{}@{} ({})", in_.owner, in_.repo_name, in_.ref, Mb(got)));
      };
      auto r = gh.DownloadTarball(in_.owner, in_.repo_name,
                                  in_.commit.empty() ? in_.ref : in_.commit, tarball, opts);
      if (!r) return Fail(r.error());
      std::ofstream(done_marker) << r->bytes;
    }
    if (auto s = ctx_.CheckCancelled(); !s) return Fail(s.error());
    ctx_.ReportProgress(std::nullopt, "unpacking");
    const fs::path src = work_ / "src";
    fs::remove_all(src, ec);
    ExtractLimits limits;
    limits.max_total_bytes = svc_.options().max_model_bytes;
    auto x = ExtractArchive(tarball, ArchiveFormat::kTarGz, src, limits, Cancelled());
    if (!x) {
      if (x.error().code == ErrorCode::kCancelled) return Fail(x.error());
      fs::remove(done_marker, ec);  // a broken tarball is fetched again by a retry
      return Fail(Error::InvalidArgument("the repository archive could not be unpacked: " +
                                         x.error().message));
    }
    // GitHub tarballs hold one top folder "<owner>-<repo>-<sha>/".
    fs::path top = src;
    std::vector<fs::path> entries;
    for (auto it = fs::directory_iterator(src, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      entries.push_back(it->path());
    if (entries.size() == 1 && fs::is_directory(entries[0], ec)) top = entries[0];
    if (!in_.path.empty()) {
      const fs::path chosen = top / in_.path;
      if (!fs::is_directory(chosen, ec))
        return Fail(Error::NotFound(
            fmt::format("the repository has no folder \"{}\" at {}", in_.path, in_.ref)));
      return chosen;
    }
    auto folders = FindModelFolders(top);
    if (folders.empty())
      return Fail(Error::InvalidArgument(
          fmt::format("no model folder (config.json with a tokenizer and weights) in {}/{} at {}",
                      in_.owner, in_.repo_name, in_.ref)));
    if (folders.size() > 1) {
      std::vector<std::string> names;
      for (const auto& f : folders) names.push_back(f.empty() ? "." : f.string());
      return Fail(Error::InvalidArgument(fmt::format(
          "the repository holds {} model folders ({}); upload again with \"path\" naming one",
          folders.size(), fmt::join(names, ", "))));
    }
    return top / folders.front();
  }

  ModelService& svc_;
  tasks::JobContext& ctx_;
  Inputs in_;
  fs::path work_;
};

}  // namespace

Status ModelUploadJob::Run(tasks::JobContext& ctx) {
  auto in = ParseInputs(ctx.task().inputs);
  if (!in) return Fail(in.error());
  class Run run(service_, ctx, *in);
  Status s = run.Execute();
  if (s) {
    run.Cleanup(true);
    return s;
  }
  const bool cancelled = s.error().code == ErrorCode::kCancelled || ctx.IsCancelled();
  const bool last_attempt = ctx.task().attempts >= ctx.task().max_attempts;
  if (!cancelled && s.error().IsRetryable() && !last_attempt) {
    // Keep the partial downloads and the reservation: the retry resumes where this one stopped.
    spdlog::warn("task={} model import will be retried: {}", ctx.task().id, s.error().message);
    return s;
  }
  if (s.error().code == ErrorCode::kAlreadyExists) {
    (void)run;  // the tag belongs to someone else: leave it alone
    std::error_code ec;
    fs::remove_all(ImportWorkDir(service_.options().data_dir, ctx.task().id), ec);
    return s;
  }
  run.Cleanup(false);
  if (cancelled) return Fail(Error::Cancelled("model import cancelled; partial files removed"));
  spdlog::warn("task={} model import failed: {}", ctx.task().id, s.error().message);
  return s;
}

}  // namespace vectorize::models
