#include "http/routes/models_routes.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <charconv>

#include "common/time.h"
#include "common/utf8.h"
#include "common/uuid.h"

namespace vectorize::http {
namespace json = boost::json;
namespace {

using models::ModelService;

template <typename T>
void PutOpt(json::object& o, const char* key, const std::optional<T>& v) {
  if (v) {
    o[key] = *v;
  } else {
    o[key] = nullptr;
  }
}

Result<std::string> ModelIdParam(const Request& req) {
  auto id = NormalizeUuid(req.PathParam("id"));
  if (!id)
    return Fail(
        Error::Validation({FieldError{{"path", "id"},
                                      "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000",
                                      "uuid_parsing"}}));
  return *id;
}

// A query parameter as an integer in [lo, hi], default when absent.
Result<std::int64_t> IntParam(const Request& req, std::string_view name, std::int64_t def,
                              std::int64_t lo, std::int64_t hi) {
  auto values = req.QueryAll(name);
  if (values.empty()) return def;
  std::string_view v = values.front();
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size())
    return Fail(Error::Validation(
        {FieldError{{"query", std::string(name)}, "must be an integer", "int_parsing"}}));
  if (n < lo || n > hi) {
    std::string msg = hi == INT64_MAX ? fmt::format("must be at least {}", lo)
                                      : fmt::format("must be between {} and {}", lo, hi);
    return Fail(Error::Validation({FieldError{{"query", std::string(name)}, msg}}));
  }
  return n;
}

std::string ETag(const models::Model& m) { return fmt::format("\"{}\"", m.version); }

// Whether an If-None-Match / If-Match header lists this version ("*" matches any).
bool EtagListMatches(std::string_view header, std::int64_t version) {
  const std::string want = std::to_string(version);
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto comma = header.find(',', pos);
    std::string_view item = header.substr(pos, comma == header.npos ? header.npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*") return true;
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"')
      item = item.substr(1, item.size() - 2);
    if (item == want) return true;
    if (comma == header.npos) break;
    pos = comma + 1;
  }
  return false;
}

Response ListModels(ModelService& svc, Request& req) {
  std::vector<FieldError> errors;
  auto page = IntParam(req, "page", 1, 1, INT64_MAX / 1000);
  if (!page) errors.insert(errors.end(), page.error().fields.begin(), page.error().fields.end());
  auto size = IntParam(req, "size", 5, 1, 100);
  if (!size) errors.insert(errors.end(), size.error().fields.begin(), size.error().fields.end());
  if (!errors.empty()) return ValidationError(std::move(errors));
  auto list = svc.List(*page, *size);
  if (!list) return ErrorResponse(list.error());
  json::array items;
  for (const auto& m : list->items) items.push_back(ModelJson(m));
  json::object out;
  out["page"] = *page;
  out["size"] = *size;
  out["total"] = list->total;
  out["totalpages"] = (list->total + *size - 1) / *size;
  out["items"] = std::move(items);
  return Response::Json(200, out);
}

Response GetModel(ModelService& svc, Request& req) {
  std::string tag(req.PathParam("model_tag"));
  if (auto s = models::ValidateTag(tag); !s)
    return ValidationError({FieldError{{"path", "model_tag"}, s.error().message}});
  auto m = svc.Get(tag);
  if (!m) return ErrorResponse(m.error());
  if (auto inm = req.Header("if-none-match"); inm && EtagListMatches(*inm, m->version))
    return Response::Empty(304).WithHeader("ETag", ETag(*m));
  return Response::Json(200, ModelJson(*m)).WithHeader("ETag", ETag(*m));
}

Response VersionMissing() {
  json::object o;
  o["code"] = "VERSION_MISSING";
  o["message"] =
      "If-Match header with the model's current ETag (its version, e.g. \"0\") is required";
  return Response::Json(428, o);
}

Response UpdateModel(ModelService& svc, Request& req) {
  auto id = ModelIdParam(req);
  if (!id) return ErrorResponse(id.error());
  // If-Match: "<version>" (quotes optional, W/ tolerated).
  auto im = req.Header("if-match");
  std::optional<std::int64_t> expected;
  if (im) {
    std::string_view v = *im;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.starts_with("W/")) v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (!v.empty() && ec == std::errc() && p == v.data() + v.size() && n >= 0) expected = n;
  }
  boost::system::error_code ec;
  auto body = json::parse(req.body, ec);
  if (ec || !body.is_object())
    return ValidationError(
        {FieldError{{"body"}, "must be a JSON object such as {\"name\": \"…\"}", "json_invalid"}});
  const auto* name = body.as_object().if_contains("name");
  if (!name) return ValidationError({FieldError{{"body", "name"}, "Field required", "missing"}});
  if (!name->is_string() || name->as_string().empty() || name->as_string().size() > 128 ||
      !IsValidUtf8(std::string_view(name->as_string())))
    return ValidationError(
        {FieldError{{"body", "name"}, "must be a string of 1 to 128 characters", "string_type"}});
  if (!expected) return VersionMissing();
  auto m = svc.Rename(*id, std::string(name->as_string()), *expected);
  if (!m) {
    Response r = ModelErrorResponse(m.error());
    if (m.error().public_code == "VERSION_MISMATCH") {
      if (auto current = svc.GetById(*id); current) r.WithHeader("ETag", ETag(*current));
    }
    return r;
  }
  return Response::Empty(204)
      .WithHeader("Location", "/models/" + m->tag)
      .WithHeader("ETag", ETag(*m));
}

Response DeleteModel(ModelService& svc, Request& req) {
  auto id = ModelIdParam(req);
  if (!id) return ErrorResponse(id.error());
  if (auto s = svc.Delete(*id); !s) return ErrorResponse(s.error());
  return Response::Empty(204);
}

}  // namespace

Response ModelErrorResponse(const Error& error) {
  Response r = ErrorResponse(error);
  if (error.public_code == "PAYLOAD_TOO_LARGE") r.status = 413;
  if (error.public_code == "VERSION_MISMATCH") r.status = 412;
  return r;
}

json::object ModelJson(const models::Model& m) {
  json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  o["model_tag"] = m.tag;
  o["source"] = std::string(1, char(m.source));
  o["version"] = m.version;
  o["created_at"] = FormatRfc3339(m.created_at);
  o["updated_at"] = FormatRfc3339(m.updated_at);
  PutOpt(o, "architecture", m.architecture);
  PutOpt(o, "dimensions", m.dim);
  PutOpt(o, "max_seq_length", m.max_seq_length);
  PutOpt(o, "pooling", m.pooling);
  PutOpt(o, "normalize", m.normalize);
  o["size_bytes"] = m.size_bytes;
  PutOpt(o, "trained_from_id", m.trained_from_id);
  switch (m.source) {
    case models::ModelSource::kHub:
      PutOpt(o, "hub_repo", m.hub_repo);
      PutOpt(o, "hub_revision", m.hub_revision);
      PutOpt(o, "hub_commit", m.hub_commit);
      break;
    case models::ModelSource::kGitHub:
      PutOpt(o, "github_owner", m.github_owner);
      PutOpt(o, "github_repo", m.github_repo);
      PutOpt(o, "github_ref", m.github_ref);
      PutOpt(o, "github_path", m.github_path);
      break;
    default: break;
  }
  return o;
}

void AddModelRoutes(Router& router, ModelService& svc) {
  router.Add("GET", "/models", [&svc](Request& r) { return ListModels(svc, r); });
  router.Add("GET", "/models/{model_tag}", [&svc](Request& r) { return GetModel(svc, r); });
  router.Add("PUT", "/models/{id}", [&svc](Request& r) { return UpdateModel(svc, r); });
  router.Add("DELETE", "/models/{id}", [&svc](Request& r) { return DeleteModel(svc, r); });
}

}  // namespace vectorize::http
