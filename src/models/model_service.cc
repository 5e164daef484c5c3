#include "models/model_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "common/uuid.h"
#include "models/archive.h"

namespace vectorize::models {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// LIKE pattern matching `"<text>"` anywhere, with LIKE's wildcards escaped.
std::string QuotedLikePattern(const std::string& text) {
  std::string out = "%\"";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += "\"%";
  return out;
}

Error WithCode(Error e, std::string code) {
  e.public_code = std::move(code);
  return e;
}

}  // namespace

ModelService::ModelService(ModelRegistry& registry, storage::Database& db, tasks::TaskStore& tasks,
                           tasks::Engine* engine, const remote::HubClient& hub,
                           const remote::GitHubClient& github, ModelServiceOptions options)
    : registry_(registry),
      db_(db),
      tasks_(tasks),
      engine_(engine),
      hub_(hub),
      github_(github),
      options_(std::move(options)) {}

Status ModelService::Delete(const std::string& id) {
  auto model = registry_.GetById(id);
  if (!model) return Fail(model.error());
  // Training, evaluation and synthesis tasks name the models they use in their inputs.
  for (const char* table : {"training_task", "evaluation_task", "synthesis_task"}) {
    auto r = db_.Query(fmt::format("SELECT id, task_status FROM {} WHERE (task_status = 'Q' OR "
                                   "task_status = 'R') AND (inputs LIKE $1 ESCAPE '\\' OR "
                                   "inputs LIKE $2 ESCAPE '\\') LIMIT 1",
                                   table),
                       {QuotedLikePattern(model->tag), QuotedLikePattern(model->id)});
    if (!r) return Fail(r.error());
    if (!r->empty()) {
      return Fail(WithCode(
          Error::FailedPrecondition(fmt::format(
              "Model {} is in use by task {} ({}, status {}); cancel it or wait until it ends",
              model->tag, r->Text(0, 0), std::string(table).substr(0, std::string(table).find('_')),
              r->Text(0, 1))),
          "CONFLICT"));
    }
  }
  if (auto s = registry_.Remove(id); !s) return s;
  std::error_code ec;
  fs::remove_all(ModelPath(options_.data_dir, model->tag), ec);
  if (ec) spdlog::warn("model {} deleted but its folder stays: {}", model->tag, ec.message());
  if (options_.evict) options_.evict(id);
  spdlog::info("model {} ({}) deleted", model->tag, id);
  return {};
}

Status ModelService::ReleaseIfStale(const std::string& tag) {
  auto row = registry_.FindTag(tag);
  if (!row) return row.error().code == ErrorCode::kNotFound ? Status{} : Fail(row.error());
  if (row->state != 'I' || !row->task_id) return {};
  auto task = tasks_.Get(*row->task_id);
  bool stale = false;
  if (!task) {
    if (task.error().code != ErrorCode::kNotFound) return Fail(task.error());
    stale = true;  // the request that reserved it died before queueing its task
  } else {
    stale = tasks::IsTerminal(task->status);
  }
  if (stale) return registry_.Release(tag, *row->task_id);
  return {};
}

Result<tasks::TaskDetail> ModelService::Submit(Model reservation, std::string inputs_json) {
  if (auto s = ReleaseIfStale(reservation.tag); !s) return Fail(s.error());
  const std::string task_id = NewUuidV7();
  reservation.task_id = task_id;
  if (auto s = registry_.Reserve(reservation); !s) return Fail(s.error());
  tasks::NewTask t;
  t.type = tasks::TaskType::kModelUpload;
  t.tag = reservation.tag;
  t.inputs = std::move(inputs_json);
  t.id = task_id;
  std::vector<tasks::NewTask> batch{std::move(t)};
  auto ids = engine_ ? engine_->Enqueue(batch) : tasks_.Enqueue(batch);
  if (!ids) {
    (void)registry_.Release(reservation.tag, task_id);
    return Fail(ids.error());
  }
  return tasks_.Get(task_id);
}

Result<tasks::TaskDetail> ModelService::StartHubUpload(const HubUploadRequest& req) {
  if (auto s = remote::ValidateHubRepoId(req.repo); !s)
    return Fail(Error::Validation({FieldError{{"body", "model_tag"}, s.error().message}}));
  if (auto s = remote::ValidateRevision(req.revision); !s)
    return Fail(Error::Validation({FieldError{{"body", "revision"}, s.error().message}}));
  const std::string tag = req.tag.value_or(DeriveTag(req.repo));
  if (auto s = ValidateTag(tag); !s)
    return Fail(Error::Validation({FieldError{{"body", "tag"}, s.error().message}}));
  // Fail fast on a taken tag before asking the Hub.
  if (auto s = ReleaseIfStale(tag); !s) return Fail(s.error());
  if (auto row = registry_.FindTag(tag); row) {
    return Fail(
        WithCode(Error::AlreadyExists(row->state == 'R'
                                          ? fmt::format("model with tag \"{}\" already exists", tag)
                                          : fmt::format("model \"{}\" is being imported (task {})",
                                                        tag, row->task_id.value_or("?"))),
                 "MODEL_ALREADY_EXISTS"));
  }
  auto info = hub_.ModelInfo(req.repo, req.revision);
  if (!info) return Fail(info.error());
  auto files = SelectHubModelFiles(info->files);
  if (!files) {
    return Fail(Error::Validation(
        {FieldError{{"body", "model_tag"},
                    fmt::format("{} at {}: {}", req.repo, req.revision, files.error().message)}}));
  }
  Model m;
  m.tag = tag;
  m.name = req.repo;
  m.source = ModelSource::kHub;
  m.hub_repo = req.repo;
  m.hub_revision = req.revision;
  m.hub_commit = info->sha;
  json::object in;
  in["source"] = "H";
  in["repo"] = req.repo;
  in["revision"] = req.revision;
  in["commit"] = info->sha;
  in["tag"] = tag;
  return Submit(std::move(m), json::serialize(in));
}

Result<tasks::TaskDetail> ModelService::StartGitHubUpload(const GitHubUploadRequest& req) {
  if (auto s = remote::ValidateGitHubName(req.owner, "owner"); !s)
    return Fail(Error::Validation({FieldError{{"body", "owner"}, s.error().message}}));
  if (auto s = remote::ValidateGitHubName(req.repo, "repo_name"); !s)
    return Fail(Error::Validation({FieldError{{"body", "repo_name"}, s.error().message}}));
  if (auto s = remote::ValidateRevision(req.ref); !s)
    return Fail(Error::Validation({FieldError{{"body", "tag"}, s.error().message}}));
  std::string path;
  if (req.path) {
    auto p = SafeEntryPath(*req.path);
    if (!p || p->empty())
      return Fail(Error::Validation(
          {FieldError{{"body", "path"}, "must be a relative folder path without \"..\""}}));
    path = p->string();
  }
  std::string derived = req.owner + "/" + req.repo;
  if (!path.empty()) derived += "/" + fs::path(path).filename().string();
  const std::string tag = req.tag.value_or(DeriveTag(derived));
  if (auto s = ValidateTag(tag); !s)
    return Fail(Error::Validation({FieldError{{"body", "model_tag"}, s.error().message}}));
  if (auto s = ReleaseIfStale(tag); !s) return Fail(s.error());
  if (auto row = registry_.FindTag(tag); row) {
    return Fail(
        WithCode(Error::AlreadyExists(row->state == 'R'
                                          ? fmt::format("model with tag \"{}\" already exists", tag)
                                          : fmt::format("model \"{}\" is being imported (task {})",
                                                        tag, row->task_id.value_or("?"))),
                 "MODEL_ALREADY_EXISTS"));
  }
  auto repo = github_.GetRepo(req.owner, req.repo);
  if (!repo) return Fail(repo.error());
  auto sha = github_.ResolveRef(req.owner, req.repo, req.ref);
  if (!sha) return Fail(sha.error());
  // Find the model folder now, from the commit's file list, so that a request that must name
  // one (or names a wrong one) is answered at once instead of by a failed task.
  auto tree = github_.ListTree(req.owner, req.repo, *sha);
  if (!tree) return Fail(tree.error());
  if (!tree->truncated) {
    auto folders = ModelFoldersFromPaths(tree->files);
    if (!path.empty()) {
      if (std::find(folders.begin(), folders.end(), path) == folders.end()) {
        bool exists = std::any_of(tree->files.begin(), tree->files.end(),
                                  [&](const auto& f) { return f.starts_with(path + "/"); });
        if (!exists)
          return Fail(Error::NotFound(
              fmt::format("{}/{} has no folder \"{}\" at {}", req.owner, req.repo, path, req.ref)));
        return Fail(Error::Validation(
            {FieldError{{"body", "path"},
                        fmt::format("\"{}\" holds no model (config.json) at {}", path, req.ref)}}));
      }
    } else if (folders.empty()) {
      return Fail(Error::Validation({FieldError{
          {"body", "repo_name"},
          fmt::format("{}/{} at {} holds no model folder (config.json with a tokenizer and "
                      "weights)",
                      req.owner, req.repo, req.ref)}}));
    } else if (folders.size() > 1) {
      std::vector<std::string> names;
      for (const auto& f : folders) names.push_back(f.empty() ? "." : f);
      return Fail(Error::Validation(
          {FieldError{{"body", "path"},
                      fmt::format("{}/{} holds {} model folders ({}); name one with \"path\"",
                                  req.owner, req.repo, folders.size(), fmt::join(names, ", ")),
                      "missing"}}));
    }
  }
  Model m;
  m.tag = tag;
  m.name = derived;
  m.source = ModelSource::kGitHub;
  m.github_owner = req.owner;
  m.github_repo = req.repo;
  m.github_ref = req.ref;
  if (!path.empty()) m.github_path = path;
  json::object in;
  in["source"] = "G";
  in["owner"] = req.owner;
  in["repo_name"] = req.repo;
  in["ref"] = req.ref;
  in["commit"] = *sha;
  if (!path.empty()) in["path"] = path;
  in["tag"] = tag;
  return Submit(std::move(m), json::serialize(in));
}

Result<tasks::TaskDetail> ModelService::GetUpload(const std::string& task_id) {
  auto t = tasks_.Get(task_id);
  if (!t) {
    if (t.error().code == ErrorCode::kNotFound)
      return Fail(Error::NotFound(fmt::format("Upload task {} not found", task_id)));
    return Fail(t.error());
  }
  if (t->type != tasks::TaskType::kModelUpload)
    return Fail(Error::NotFound(fmt::format("Upload task {} not found", task_id)));
  return t;
}

Result<LocalUploadResult> ModelService::ImportLocalZip(const fs::path& zip_path,
                                                       const std::string& filename,
                                                       std::optional<std::string> model_name) {
  LocalUploadResult result;
  result.task_id = NewUuidV7();
  const Micros started = NowMicros();
  const fs::path work = options_.data_dir / "tmp" / ("local-" + result.task_id);
  std::error_code ec;

  auto run = [&]() -> Status {
    if (!filename.empty() &&
        !(filename.size() >= 4 && (filename.ends_with(".zip") || filename.ends_with(".ZIP"))))
      return Fail(WithCode(
          Error::InvalidArgument(fmt::format("\"{}\" is not a .zip file: upload a zip archive of "
                                             "model folders",
                                             filename.substr(0, 100))),
          "INVALID_FILE"));
    if (fs::file_size(zip_path, ec) == 0 || ec)
      return Fail(WithCode(Error::InvalidArgument("the uploaded file is empty"), "EMPTY_FILE"));
    ExtractLimits limits;
    limits.max_total_bytes = options_.max_model_bytes;
    auto extracted = ExtractArchive(zip_path, ArchiveFormat::kZip, work / "x", limits);
    if (!extracted) return Fail(extracted.error());
    if (extracted->files == 0)
      return Fail(WithCode(Error::InvalidArgument("the zip archive holds no files"), "EMPTY_FILE"));
    auto folders = FindModelFolders(work / "x");
    if (folders.empty())
      return Fail(WithCode(
          Error::InvalidArgument("no model found in the zip: a model folder needs config.json, "
                                 "tokenizer.json and weights (model.safetensors or "
                                 "pytorch_model.bin)"),
          "INVALID_FILE"));
    std::string stem = fs::path(filename).stem().string();
    if (stem.empty()) stem = "model";
    std::set<std::string> seen;
    for (const auto& rel : folders) {
      std::string base = rel.empty() ? stem : rel.filename().string();
      std::string tag = DeriveTag(folders.size() == 1 && model_name ? *model_name : base);
      const std::string dir_name = rel.empty() ? "." : rel.string();
      if (!seen.insert(tag).second) {
        result.failed.push_back(
            {dir_name, fmt::format("another folder already gives tag \"{}\"", tag)});
        continue;
      }
      if (auto s = ReleaseIfStale(tag); !s) return s;
      if (auto row = registry_.FindTag(tag); row) {
        result.existing.push_back(tag);
        continue;
      }
      Model m;
      m.tag = tag;
      m.name = folders.size() == 1 && model_name ? *model_name : base;
      m.source = ModelSource::kLocal;
      PruneToModelFiles(work / "x" / rel);
      auto installed = InstallModel(options_.data_dir, work / "x" / rel, m, false, registry_,
                                    options_.load_check);
      if (!installed) {
        if (installed.error().code == ErrorCode::kAlreadyExists) {
          result.existing.push_back(tag);
        } else {
          result.failed.push_back({dir_name, installed.error().message});
        }
        continue;
      }
      result.created.push_back(*installed);
    }
    if (!result.created.empty()) return {};
    if (result.failed.empty())
      return Fail(
          WithCode(Error::AlreadyExists(fmt::format("every model in the zip already exists: {}",
                                                    fmt::join(result.existing, ", "))),
                   "MODEL_ALREADY_EXISTS"));
    std::string msg = "no model in the zip is valid";
    for (const auto& f : result.failed) msg += fmt::format("; {}: {}", f.directory, f.error);
    return Fail(WithCode(Error::InvalidArgument(msg), "INVALID_FILE"));
  };
  Status status = run();
  fs::remove_all(work, ec);

  // Every upload shows in /tasks: a finished model_upload task, D or F.
  tasks::TaskDetail t;
  t.id = result.task_id;
  t.type = tasks::TaskType::kModelUpload;
  t.status = status ? tasks::TaskStatus::kDone : tasks::TaskStatus::kFailed;
  if (!result.created.empty()) t.tag = result.created.front().tag;
  t.created_at = started;
  t.started_at = started;
  t.updated_at = t.end_date.emplace(NowMicros());
  t.run_after = started;
  t.progress = status ? std::optional<double>(1.0) : std::nullopt;
  if (!status) t.error_msg = status.error().message.substr(0, 2000);
  json::object in;
  in["source"] = "L";
  in["filename"] = filename.substr(0, 255);
  if (model_name) in["model_name"] = *model_name;
  t.inputs = json::serialize(in);
  if (status) {
    json::array tags;
    for (const auto& m : result.created) tags.push_back(json::string(m.tag));
    json::object res;
    res["model_tags"] = std::move(tags);
    res["model_tag"] = result.created.front().tag;
    res["model_id"] = result.created.front().id;
    t.result = json::serialize(res);
  }
  std::vector<tasks::TaskDetail> batch{t};
  if (auto s = tasks_.BulkInsert(batch); !s)
    spdlog::warn("task={} local upload not recorded: {}", t.id, s.error().message);
  if (!status) return Fail(status.error());
  return result;
}

void ModelService::SweepWorkDirs() {
  std::error_code ec;
  const fs::path tmp = options_.data_dir / "tmp";
  for (auto it = fs::directory_iterator(tmp, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("model-")) continue;
    auto task = tasks_.Get(name.substr(6));
    if (task && !tasks::IsTerminal(task->status)) continue;
    if (!task && task.error().code != ErrorCode::kNotFound) continue;
    std::error_code ec2;
    fs::remove_all(it->path(), ec2);
    spdlog::info("removed the work folder of finished import {}", name.substr(6));
  }
}

}  // namespace vectorize::models
