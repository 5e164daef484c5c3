#include "http/routes/datasets_routes.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <chrono>

#include "common/time.h"
#include "common/utf8.h"
#include "common/uuid.h"
#include "datasets/hub_import.h"
#include "http/multipart.h"
#include "http/routes/task_json.h"

namespace vectorize::http {
namespace {

using datasets::Dataset;
using datasets::DatasetService;

constexpr std::size_t kMaxNameChars = 128;

std::string ETag(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

Response Problem(int status, std::string_view code, std::string_view message) {
  return Response::Json(status, boost::json::object{{"code", code}, {"message", message}});
}

boost::json::object SummaryJson(const Dataset& d) {
  return boost::json::object{{"id", d.id},
                             {"name", d.name},
                             {"classification", std::string(1, d.classification)},
                             {"version", d.version},
                             {"rows", d.rows},
                             {"created_at", FormatRfc3339(d.created_at)}};
}

boost::json::object DetailJson(const Dataset& d) {
  boost::json::object o = SummaryJson(d);
  o["updated_at"] = FormatRfc3339(d.updated_at);
  o["synthesis_id"] = d.synthesis_id ? boost::json::value(*d.synthesis_id) : nullptr;
  o["source"] = std::string(1, static_cast<char>(d.source));
  return o;
}

Result<std::string> DatasetIdParam(const Request& req, std::string_view name = "id") {
  auto id = NormalizeUuid(req.PathParam(name));
  if (!id) {
    return Fail(
        Error::Validation({FieldError{{"path", std::string(name)},
                                      "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000",
                                      "uuid_parsing"}}));
  }
  return *id;
}

// An integer query parameter in [lo, hi], `fallback` when absent.
Result<std::int64_t> IntParam(const Request& req, std::string_view name, std::int64_t fallback,
                              std::int64_t lo, std::int64_t hi) {
  const auto values = req.QueryAll(name);
  if (values.empty()) return fallback;
  const std::string_view v = values.back();
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    return Fail(Error::Validation(
        {FieldError{{"query", std::string(name)}, "must be an integer", "int_parsing"}}));
  }
  if (n < lo || n > hi) {
    const std::string range =
        hi == INT64_MAX ? ("must be at least " + std::to_string(lo))
                        : ("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return Fail(Error::Validation({FieldError{{"query", std::string(name)}, range}}));
  }
  return n;
}

Response ListDatasets(DatasetService& service, Request& req) {
  auto limit = IntParam(req, "limit", 10, 1, 500);
  if (!limit) return ErrorResponse(limit.error());
  auto offset = IntParam(req, "offset", 0, 0, INT64_MAX);
  if (!offset) return ErrorResponse(offset.error());
  auto page = service.List(*limit, *offset);
  if (!page) return ErrorResponse(page.error());
  boost::json::array items;
  for (const auto& d : page->items) items.push_back(SummaryJson(d));
  return Response::Json(200, boost::json::object{{"items", std::move(items)},
                                                 {"total", page->total},
                                                 {"limit", *limit},
                                                 {"offset", *offset}});
}

// Whether an If-None-Match value (a list of entity tags, or *) matches `etag`.
bool NoneMatchHits(std::string_view header, const std::string& etag) {
  std::size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = header.substr(start, comma - start);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison (RFC 9110 §13.1.2)
    if (tag == "*" || tag == etag) return true;
    start = comma + 1;
  }
  return false;
}

Response GetDataset(DatasetService& service, Request& req) {
  auto id = DatasetIdParam(req);
  if (!id) return ErrorResponse(id.error());
  auto d = service.Get(*id);
  if (!d) return ErrorResponse(d.error());
  const std::string etag = ETag(d->version);
  if (auto inm = req.Header("if-none-match"); inm && NoneMatchHits(*inm, etag)) {
    return Response::Empty(304).WithHeader("ETag", etag);
  }
  return Response::Json(200, DetailJson(*d)).WithHeader("ETag", etag);
}

// If-Match: "<version>" (one strong tag). nullopt when missing or malformed.
std::optional<std::int64_t> IfMatchVersion(const Request& req) {
  auto h = req.Header("if-match");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() < 3 || v.front() != '"' || v.back() != '"') return std::nullopt;
  v = v.substr(1, v.size() - 2);
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1) return std::nullopt;
  return n;
}

Result<std::string> NameFromBody(const Request& req) {
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  if (ec || !body.is_object()) {
    return Fail(Error::Validation({FieldError{
        {"body"}, "must be a JSON object such as {\"name\": \"my-dataset\"}", "json_invalid"}}));
  }
  const auto* name = body.as_object().if_contains("name");
  if (name == nullptr) {
    return Fail(Error::Validation({FieldError{{"body", "name"}, "Field required", "missing"}}));
  }
  if (!name->is_string()) {
    return Fail(Error::Validation(
        {FieldError{{"body", "name"}, "Input should be a valid string", "string_type"}}));
  }
  std::string value(name->as_string());
  const std::size_t chars = Utf8Length(value);
  bool control = false;
  for (unsigned char c : value) control |= c < 0x20 || c == 0x7f;
  if (chars < 1 || chars > kMaxNameChars || control || !IsValidUtf8(value)) {
    return Fail(
        Error::Validation({FieldError{{"body", "name"},
                                      "must be 1 to 128 characters without control characters",
                                      "string_too_long"}}));
  }
  return value;
}

Response UpdateDataset(DatasetService& service, Request& req) {
  auto id = DatasetIdParam(req);
  if (!id) return ErrorResponse(id.error());
  const auto version = IfMatchVersion(req);
  if (!version) {
    return Problem(428, "VERSION_MISSING",
                   "send If-Match: \"<version>\" with the ETag from GET /datasets/" + *id);
  }
  auto name = NameFromBody(req);
  if (!name) return ErrorResponse(name.error());
  auto d = service.Rename(*id, *version, *name);
  if (!d) {
    if (d.error().public_code == "VERSION_MISMATCH") {
      Response r = Problem(412, "VERSION_MISMATCH", d.error().message);
      if (auto cur = service.Get(*id)) r.WithHeader("ETag", ETag(cur->version));
      return r;
    }
    return ErrorResponse(d.error());
  }
  return Response::Empty(204)
      .WithHeader("Location", "/datasets/" + d->id)
      .WithHeader("ETag", ETag(d->version));
}

Response DeleteDataset(DatasetService& service, Request& req) {
  auto id = DatasetIdParam(req);
  if (!id) return ErrorResponse(id.error());
  if (auto s = service.Delete(*id); !s) return ErrorResponse(s.error());
  return Response::Empty(204);
}

// Query options of POST /datasets.
Result<datasets::formats::ColumnOptions> UploadOptions(const Request& req) {
  datasets::formats::ColumnOptions o;
  std::vector<FieldError> errors;
  auto text = [&](std::string_view name, std::optional<std::string>& out) {
    const auto values = req.QueryAll(name);
    if (values.empty()) return;
    const std::string_view v = values.back();
    if (v.empty() || v.size() > 256 || !IsValidUtf8(v)) {
      errors.push_back(FieldError{{"query", std::string(name)},
                                  "must be a column name of 1 to 256 bytes (UTF-8)"});
      return;
    }
    out = std::string(v);
  };
  text("question_name", o.question_name);
  text("positive_name", o.positive_name);
  text("negative_name", o.negative_name);
  auto sheet = IntParam(req, "sheet_index", 0, 0, 1000);
  if (!sheet) {
    errors.insert(errors.end(), sheet.error().fields.begin(), sheet.error().fields.end());
  } else {
    o.sheet_index = static_cast<std::uint32_t>(*sheet);
  }
  if (!errors.empty()) return Fail(Error::Validation(std::move(errors)));
  return o;
}

Response CreateDataset(DatasetService& service, Request& req) {
  auto options = UploadOptions(req);
  if (!options) return ErrorResponse(options.error());
  const std::string content_type(req.Header("content-type").value_or(""));
  const auto t0 = std::chrono::steady_clock::now();
  Result<MultipartForm> form = Fail(Error::Internal("unset"));
  if (!req.body_file.empty()) {
    form = ParseMultipartFile(req.body_file, content_type, service.TempDir().string());
  } else {
    auto boundary = MultipartBoundary(content_type);
    if (!boundary) return ErrorResponse(boundary.error());
    MultipartParser parser(*boundary, service.TempDir().string());
    if (auto s = parser.Feed(req.body); !s) return ErrorResponse(s.error());
    form = parser.Finish();
  }
  if (!form) return ErrorResponse(form.error());
  std::vector<datasets::UploadedFile> files;
  for (const MultipartPart* part : form->All("files")) {
    if (!part->filename) {
      return ValidationError({FieldError{
          {"body", "files"}, "must be a file (a part with a filename)", "value_error"}});
    }
    files.push_back({*part->filename, part->file_path});
  }
  if (files.empty())
    return ValidationError({FieldError{{"body", "files"}, "Field required", "missing"}});
  const auto t1 = std::chrono::steady_clock::now();
  auto outcomes = service.Upload(files, *options);
  form->RemoveFiles();
  const auto t2 = std::chrono::steady_clock::now();
  spdlog::debug(
      "datasets: upload of {} file(s), {} bytes: multipart {:.3f}s, convert+store {:.3f}s",
      files.size(), req.body_file_size, std::chrono::duration<double>(t1 - t0).count(),
      std::chrono::duration<double>(t2 - t1).count());

  if (outcomes.size() == 1) {
    const auto& o = outcomes.front();
    if (o.dataset) {
      return Response::Json(201, DetailJson(*o.dataset))
          .WithHeader("Location", "/datasets/" + o.dataset->id)
          .WithHeader("ETag", ETag(o.dataset->version));
    }
    return Problem(o.failure->status, o.failure->code, o.failure->message);
  }
  std::int64_t ok = 0;
  boost::json::array failed;
  for (const auto& o : outcomes) {
    if (o.dataset) {
      ++ok;
    } else {
      failed.push_back(boost::json::object{{"filename", SanitizeUtf8(o.filename)},
                                           {"error", o.failure->code + ": " + o.failure->message}});
    }
  }
  return Response::Json(ok > 0 ? 201 : 422,
                        boost::json::object{{"successful_uploads", ok}, {"failed", failed}});
}

Response ImportHubDataset(datasets::HubImporter& hub, Request& req) {
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  if (ec || !body.is_object()) {
    return ValidationError(
        {FieldError{{"body"},
                    "must be a JSON object such as {\"dataset_tag\": \"org/name\"}",
                    "json_invalid"}});
  }
  const auto& o = body.as_object();
  const auto* tag = o.if_contains("dataset_tag");
  if (tag == nullptr) {
    return ValidationError({FieldError{{"body", "dataset_tag"}, "Field required", "missing"}});
  }
  if (!tag->is_string()) {
    return ValidationError(
        {FieldError{{"body", "dataset_tag"}, "Input should be a valid string", "string_type"}});
  }
  std::string revision = "main";
  if (const auto* rev = o.if_contains("revision"); rev && !rev->is_null()) {
    if (!rev->is_string()) {
      return ValidationError(
          {FieldError{{"body", "revision"}, "Input should be a valid string", "string_type"}});
    }
    revision = std::string(rev->as_string());
  }
  auto task = hub.Submit(std::string(tag->as_string()), revision);
  if (!task) return ErrorResponse(task.error());
  return Response::Json(201, TaskDetailJson(*task))
      .WithHeader("Location", "/datasets/huggingface/status/" + task->id);
}

Response GetHubImportStatus(datasets::HubImporter& hub, Request& req) {
  auto id = DatasetIdParam(req, "task_id");
  if (!id) return ErrorResponse(id.error());
  auto task = hub.Status(*id);
  if (!task) return ErrorResponse(task.error());
  return Response::Json(200, TaskDetailJson(*task));
}

}  // namespace

void AddDatasetRoutes(Router& router, DatasetService& service, datasets::HubImporter* hub) {
  router.Add("GET", "/datasets", [&service](Request& r) { return ListDatasets(service, r); });
  router.AddUpload("POST", "/datasets",
                   [&service](Request& r) { return CreateDataset(service, r); });
  router.Add("GET", "/datasets/{id}", [&service](Request& r) { return GetDataset(service, r); });
  router.Add("PUT", "/datasets/{id}", [&service](Request& r) { return UpdateDataset(service, r); });
  router.Add("DELETE", "/datasets/{id}",
             [&service](Request& r) { return DeleteDataset(service, r); });
  if (hub != nullptr) {
    // Blocking: asks the Hub whether the dataset exists before queueing the import.
    router.AddBlocking("POST", "/datasets/huggingface",
                       [hub](Request& r) { return ImportHubDataset(*hub, r); });
    router.Add("GET", "/datasets/huggingface/status/{task_id}",
               [hub](Request& r) { return GetHubImportStatus(*hub, r); });
  }
}

}  // namespace vectorize::http
