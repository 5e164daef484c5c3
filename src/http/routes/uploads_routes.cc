#include "http/routes/uploads_routes.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <filesystem>

#include "common/utf8.h"
#include "common/uuid.h"
#include "http/multipart.h"
#include "http/routes/models_routes.h"
#include "http/routes/task_json.h"

namespace vectorize::http {
namespace json = boost::json;
namespace {

using models::ModelService;

Result<json::object> JsonBody(const Request& req) {
  boost::system::error_code ec;
  auto body = json::parse(req.body, ec);
  if (ec || !body.is_object())
    return Fail(Error::Validation({FieldError{{"body"}, "must be a JSON object", "json_invalid"}}));
  return std::move(body.as_object());
}

// A string field: required → 422 missing; wrong type → 422. Absent optional → nullopt.
Result<std::optional<std::string>> StringField(const json::object& o, const char* key,
                                               bool required, std::size_t max_len = 255) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required)
      return Fail(Error::Validation({FieldError{{"body", key}, "Field required", "missing"}}));
    return std::optional<std::string>{};
  }
  if (!v->is_string() || v->as_string().empty() || v->as_string().size() > max_len ||
      !IsValidUtf8(std::string_view(v->as_string())))
    return Fail(Error::Validation(
        {FieldError{{"body", key},
                    fmt::format("must be a string of 1 to {} characters", max_len),
                    "string_type"}}));
  return std::optional<std::string>(std::string(v->as_string()));
}

Response Created(const tasks::TaskDetail& task) {
  json::object o = TaskDetailJson(task);
  o["task_id"] = task.id;
  o["source"] = nullptr;
  boost::system::error_code ec;
  auto in = json::parse(task.inputs, ec);
  if (!ec && in.is_object()) {
    if (auto* s = in.as_object().if_contains("source"); s && s->is_string()) o["source"] = *s;
  }
  return Response::Json(201, o).WithHeader("Location", "/uploads/" + task.id);
}

Response UploadHuggingFace(ModelService& svc, Request& req) {
  auto body = JsonBody(req);
  if (!body) return ErrorResponse(body.error());
  auto repo = StringField(*body, "model_tag", true);
  if (!repo) return ErrorResponse(repo.error());
  auto rev = StringField(*body, "revision", false);
  if (!rev) return ErrorResponse(rev.error());
  auto tag = StringField(*body, "tag", false, models::kMaxTagLength);
  if (!tag) return ErrorResponse(tag.error());
  models::HubUploadRequest r;
  r.repo = **repo;
  r.revision = rev->value_or("main");
  r.tag = *tag;
  auto task = svc.StartHubUpload(r);
  if (!task) return ModelErrorResponse(task.error());
  return Created(*task);
}

Response UploadGitHub(ModelService& svc, Request& req) {
  auto body = JsonBody(req);
  if (!body) return ErrorResponse(body.error());
  auto owner = StringField(*body, "owner", true, 100);
  if (!owner) return ErrorResponse(owner.error());
  auto repo = StringField(*body, "repo_name", true, 100);
  if (!repo) return ErrorResponse(repo.error());
  auto ref = StringField(*body, "tag", false);
  if (!ref) return ErrorResponse(ref.error());
  auto path = StringField(*body, "path", false, 1000);
  if (!path) return ErrorResponse(path.error());
  auto model_tag = StringField(*body, "model_tag", false, models::kMaxTagLength);
  if (!model_tag) return ErrorResponse(model_tag.error());
  models::GitHubUploadRequest r;
  r.owner = **owner;
  r.repo = **repo;
  r.ref = ref->value_or("main");
  r.path = *path;
  r.tag = *model_tag;
  auto task = svc.StartGitHubUpload(r);
  if (!task) return ModelErrorResponse(task.error());
  return Created(*task);
}

Response UploadLocal(ModelService& svc, const std::string& temp_dir, Request& req) {
  auto ct = req.Header("content-type");
  if (!ct || !std::string_view(*ct).starts_with("multipart/form-data"))
    return ValidationError({FieldError{
        {"body", "file"}, "send the zip as multipart/form-data field \"file\"", "missing"}});
  Result<MultipartForm> form = Fail(Error::Internal("no body"));
  std::string body_path = req.body_file;
  std::filesystem::path inline_body;
  if (body_path.empty()) {
    // Not spooled (server without an upload dir): write the in-memory body out once.
    inline_body = std::filesystem::path(temp_dir) / ("body-" + NewUuidV7());
    std::FILE* f = std::fopen(inline_body.c_str(), "wb");
    if (!f) return ErrorResponse(Error::Internal("cannot write a temp file"));
    std::fwrite(req.body.data(), 1, req.body.size(), f);
    std::fclose(f);
    body_path = inline_body.string();
  }
  form = ParseMultipartFile(body_path, *ct, temp_dir);
  if (!inline_body.empty()) std::filesystem::remove(inline_body);
  if (!form) return ErrorResponse(form.error());
  auto files = form->All("file");
  if (files.empty() || !files.front()->filename)
    return ValidationError({FieldError{{"body", "file"}, "Field required", "missing"}});
  std::optional<std::string> model_name;
  if (auto q = req.QueryAll("model_name"); !q.empty() && !q.front().empty()) {
    if (q.front().size() > 128 || !IsValidUtf8(q.front()))
      return ValidationError(
          {FieldError{{"query", "model_name"}, "must be a string of 1 to 128 characters"}});
    model_name = std::string(q.front());
  }
  const auto* part = files.front();
  auto result = svc.ImportLocalZip(part->file_path, *part->filename, model_name);
  form->RemoveFiles();
  if (!result) return ModelErrorResponse(result.error());
  json::array models_json, failed, existing;
  for (const auto& m : result->created) {
    json::object o = ModelJson(m);
    o["tag"] = m.tag;
    o["url"] = "/models/" + m.tag;
    models_json.push_back(std::move(o));
  }
  for (const auto& f : result->failed) {
    json::object o;
    o["directory"] = f.directory;
    o["error"] = f.error;
    failed.push_back(std::move(o));
  }
  for (const auto& t : result->existing) existing.push_back(json::string(t));
  json::object out;
  out["message"] = fmt::format("Successfully uploaded {} model{}", result->created.size(),
                               result->created.size() == 1 ? "" : "s");
  out["task_id"] = result->task_id;
  out["models"] = std::move(models_json);
  out["existing"] = std::move(existing);
  out["failed"] = std::move(failed);
  return Response::Json(201, out).WithHeader("Location", "/models/" + result->created.front().tag);
}

Response GetUpload(ModelService& svc, Request& req) {
  auto id = NormalizeUuid(req.PathParam("task_id"));
  if (!id)
    return ValidationError(
        {FieldError{{"path", "task_id"},
                    "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000",
                    "uuid_parsing"}});
  auto task = svc.GetUpload(*id);
  if (!task) return ErrorResponse(task.error());
  json::object o = TaskDetailJson(*task);
  o["source"] = nullptr;
  boost::system::error_code ec;
  auto in = json::parse(task->inputs, ec);
  if (!ec && in.is_object()) {
    if (auto* s = in.as_object().if_contains("source"); s && s->is_string()) o["source"] = *s;
  }
  return Response::Json(200, o);
}

}  // namespace

void AddUploadRoutes(Router& router, ModelService& svc, std::string temp_dir) {
  // Blocking: both ask the remote service whether the repository exists before queueing.
  router.AddBlocking("POST", "/uploads/huggingface",
                     [&svc](Request& r) { return UploadHuggingFace(svc, r); });
  router.AddBlocking("POST", "/uploads/github",
                     [&svc](Request& r) { return UploadGitHub(svc, r); });
  router.AddUpload("POST", "/uploads/local",
                   [&svc, temp_dir](Request& r) { return UploadLocal(svc, temp_dir, r); });
  router.Add("GET", "/uploads/{task_id}", [&svc](Request& r) { return GetUpload(svc, r); });
}

}  // namespace vectorize::http
