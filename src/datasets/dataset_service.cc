#include "datasets/dataset_service.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <system_error>

#include "common/uuid.h"

namespace vectorize::datasets {
namespace fs = std::filesystem;

namespace {

bool IsZip(std::string_view filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(filename.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "zip";
}

UploadFailure FromConvert(const formats::ConvertError& e) { return {e.status, e.code, e.message}; }

UploadFailure FromError(const Error& e) {
  int status = 500;
  std::string code = "SERVER_ERROR";
  std::string message = e.message;
  switch (e.code) {
    case ErrorCode::kAlreadyExists:
      status = 409;
      code = e.public_code.empty() ? "CONFLICT" : e.public_code;
      break;
    case ErrorCode::kInvalidArgument:
      status = 400;
      code = e.public_code.empty() ? "BAD_REQUEST" : e.public_code;
      break;
    case ErrorCode::kUnavailable:
      status = 503;
      code = "UNAVAILABLE";
      break;
    default:
      spdlog::error("datasets: upload failed: {}", e.message);
      message = "the upload could not be stored";
      break;
  }
  return {status, std::move(code), std::move(message)};
}

}  // namespace

std::string OptionsJson(const formats::ColumnOptions& o) {
  boost::json::object out;
  if (o.question_name) out["question_name"] = *o.question_name;
  if (o.positive_name) out["positive_name"] = *o.positive_name;
  if (o.negative_name) out["negative_name"] = *o.negative_name;
  out["sheet_index"] = o.sheet_index;
  return boost::json::serialize(out);
}

DatasetService::DatasetService(DatasetStore& store, tasks::TaskStore& tasks,
                               DatasetServiceOptions options)
    : store_(store), tasks_(tasks), options_(std::move(options)) {}

Status DatasetService::Init() {
  for (const fs::path& dir : {options_.data_dir / "datasets", options_.data_dir / "tmp"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return Fail(Error::Unavailable("cannot create " + dir.string() + ": " + ec.message()));
    }
  }
  // A crash mid-conversion leaves a .part file: invisible (no row), removed here.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.data_dir / "datasets", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with('.') && name.ends_with(".part")) fs::remove(entry.path(), ec);
  }
  return {};
}

Result<Dataset> DatasetService::StoreConverted(const fs::path& jsonl, std::string name,
                                               char classification, std::int64_t rows,
                                               DatasetSource source,
                                               std::optional<std::string> hub_tag,
                                               std::optional<std::string> hub_revision) {
  Dataset d;
  d.id = NewUuidV7();
  d.name = std::move(name);
  d.classification = classification;
  d.rows = rows;
  d.file_path = "datasets/" + d.id + ".jsonl";
  d.source = source;
  d.hub_tag = std::move(hub_tag);
  d.hub_revision = std::move(hub_revision);
  d.created_at = d.updated_at = NowMicros();
  const fs::path final_path = options_.data_dir / d.file_path;
  std::error_code ec;
  fs::rename(jsonl, final_path, ec);
  if (ec) {
    fs::remove(jsonl, ec);
    return Fail(Error::Internal("cannot move the converted dataset into place: " + ec.message()));
  }
  // The unique index decides races between concurrent uploads of one name: the loser looks for
  // the next free suffix and tries again.
  const std::string base = d.name.substr(0, 120);
  for (int attempt = 0;; ++attempt) {
    auto s = store_.Insert(d);
    if (s) return d;
    if (s.error().code != ErrorCode::kAlreadyExists || attempt >= 20) {
      fs::remove(final_path, ec);
      return Fail(s.error());
    }
    auto taken = store_.NamesWithPrefix(base + "_");
    if (!taken) {
      fs::remove(final_path, ec);
      return Fail(taken.error());
    }
    std::set<std::string> names(taken->begin(), taken->end());
    int n = 2;
    while (names.contains(base + "_" + std::to_string(n))) ++n;
    d.name = base + "_" + std::to_string(n);
  }
}

UploadOutcome DatasetService::UploadOne(const std::string& filename, const fs::path& path,
                                        const formats::ColumnOptions& options,
                                        const formats::Limits& limits) {
  UploadOutcome out;
  out.filename = filename;
  auto stem = formats::SanitizeFilename(filename);
  if (!stem) {
    out.failure = FromConvert(stem.error());
    return out;
  }
  if (stem->size() <= 100) out.tag = *stem;  // [A-Za-z0-9_-]: bytes are characters
  const fs::path part = options_.data_dir / "datasets" / ("." + NewUuidV7() + ".jsonl.part");
  auto converted = formats::ConvertFile(path, filename, options, part, limits);
  if (!converted) {
    std::error_code ec;
    fs::remove(part, ec);
    out.failure = FromConvert(converted.error());
    return out;
  }
  auto stored = StoreConverted(part, *stem, converted->classification,
                               static_cast<std::int64_t>(converted->rows), DatasetSource::kUpload);
  if (!stored) {
    out.failure = FromError(stored.error());
    return out;
  }
  out.dataset = std::move(*stored);
  return out;
}

void DatasetService::Expand(const UploadedFile& file, const formats::ColumnOptions& options,
                            std::vector<UploadOutcome>& out) {
  if (!IsZip(file.filename)) {
    out.push_back(UploadOne(file.filename, file.path, options, options_.limits));
    return;
  }
  // The archive's own name must be acceptable too (no stem → INVALID_FILE).
  if (auto stem = formats::SanitizeFilename(file.filename); !stem) {
    out.push_back(UploadOutcome{file.filename, {}, FromConvert(stem.error()), {}});
    return;
  }
  std::string templ = (options_.data_dir / "tmp" / "zip-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    out.push_back(UploadOutcome{
        file.filename, {}, FromError(Error::Internal("cannot create a temp directory")), {}});
    return;
  }
  const fs::path dir = templ;
  auto entries = formats::ExtractZip(file.path, dir, options_.limits);
  // An entry is bounded by the zip limits (entry size, total, ratio), not by the upload size.
  formats::Limits entry_limits = options_.limits;
  entry_limits.max_file_bytes =
      std::max(entry_limits.max_file_bytes, entry_limits.max_zip_entry_bytes);
  if (!entries) {
    out.push_back(UploadOutcome{file.filename, {}, FromConvert(entries.error()), {}});
  } else {
    for (const auto& entry : *entries) {
      UploadOutcome o = UploadOne(entry.filename, entry.path, options, entry_limits);
      o.filename = file.filename + "/" + entry.name;
      out.push_back(std::move(o));
      std::error_code ec;
      fs::remove(entry.path, ec);  // free the space as we go
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

std::vector<UploadOutcome> DatasetService::Upload(const std::vector<UploadedFile>& files,
                                                  const formats::ColumnOptions& options) {
  const Micros started = NowMicros();
  std::vector<UploadOutcome> outcomes;
  for (const auto& file : files) Expand(file, options, outcomes);

  // Every upload, ok or not, shows in /tasks as a finished dataset_upload task.
  const Micros ended = NowMicros();
  const std::string options_json = OptionsJson(options);
  std::vector<tasks::TaskDetail> records;
  for (auto& o : outcomes) {
    tasks::TaskDetail t;
    t.id = o.task_id = NewUuidV7();
    t.type = tasks::TaskType::kDatasetUpload;
    t.tag = o.tag;
    t.created_at = started;
    t.started_at = started;
    t.updated_at = ended;
    t.end_date = ended;
    t.run_after = started;
    t.attempts = 1;
    t.max_attempts = 1;
    boost::json::object inputs;
    inputs["source"] = "upload";
    inputs["filename"] = o.filename;
    inputs["options"] = boost::json::parse(options_json);
    t.inputs = boost::json::serialize(inputs);
    if (o.dataset) {
      t.status = tasks::TaskStatus::kDone;
      t.progress = 1.0;
      t.progress_msg = std::to_string(o.dataset->rows) + " rows";
      t.result = boost::json::serialize(
          boost::json::object{{"dataset_id", o.dataset->id},
                              {"name", o.dataset->name},
                              {"rows", o.dataset->rows},
                              {"classification", std::string(1, o.dataset->classification)}});
    } else {
      t.status = tasks::TaskStatus::kFailed;
      t.error_msg = o.failure->code + ": " + o.failure->message;
    }
    records.push_back(std::move(t));
  }
  if (!records.empty()) {
    if (auto s = tasks_.BulkInsert(records); !s) {
      spdlog::error("datasets: cannot record {} upload task(s): {}", records.size(),
                    s.error().message);
    }
  }
  return outcomes;
}

Result<Dataset> DatasetService::Rename(std::string_view id, std::int64_t expected_version,
                                       std::string_view name) {
  return store_.Rename(id, expected_version, name);
}

Status DatasetService::Delete(std::string_view id) {
  auto gone = store_.Delete(id);
  if (!gone) return Fail(gone.error());
  std::error_code ec;
  fs::remove(AbsolutePath(*gone), ec);
  if (ec) {
    spdlog::warn("datasets: row {} deleted but its file {} could not be removed: {}", gone->id,
                 gone->file_path, ec.message());
  }
  return {};
}

}  // namespace vectorize::datasets
