#include "http/routes/tasks_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/utf8.h"
#include "common/uuid.h"
#include "http/routes/task_json.h"

namespace vectorize::http {
namespace {

using tasks::TaskService;

// The {id} path parameter as a canonical UUID, or a 422 naming it.
Result<std::string> TaskIdParam(const Request& req) {
  auto id = NormalizeUuid(req.PathParam("id"));
  if (!id) {
    return Fail(
        Error::Validation({FieldError{{"path", "id"},
                                      "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000",
                                      "uuid_parsing"}}));
  }
  return *id;
}

Response ListTasks(TaskService& service, Request& req) {
  auto query = tasks::ParseTaskQuery(req.query);
  if (!query) return ErrorResponse(query.error());
  auto list = service.List(*query);
  if (!list) return ErrorResponse(list.error());
  std::string body;
  AppendTaskListJson(body, *list);
  return Response::Text(200, std::move(body), "application/json");
}

// The filters of GET /tasks (same parsing, same 422s); limit and offset are accepted and ignored.
Response GetTaskStats(TaskService& service, Request& req) {
  auto query = tasks::ParseTaskQuery(req.query);
  if (!query) return ErrorResponse(query.error());
  auto rows = service.Stats(*query);
  if (!rows) return ErrorResponse(rows.error());
  boost::json::object by_status, by_type;
  for (auto s : tasks::kAllTaskStatuses) by_status[std::string(1, tasks::TaskStatusCode(s))] = 0;
  for (auto t : tasks::kAllTaskTypes) {
    boost::json::object per;
    for (auto s : tasks::kAllTaskStatuses) per[std::string(1, tasks::TaskStatusCode(s))] = 0;
    by_type[tasks::TaskTypeName(t)] = std::move(per);
  }
  std::int64_t total = 0;
  for (const auto& r : *rows) {
    const std::string code(1, tasks::TaskStatusCode(r.status));
    by_type[tasks::TaskTypeName(r.type)].as_object()[code] = r.count;
    by_status[code] = by_status[code].as_int64() + r.count;
    total += r.count;
  }
  boost::json::object out;
  out["within_hours"] = query->within_hours;
  out["total"] = total;
  out["by_status"] = std::move(by_status);
  out["by_type"] = std::move(by_type);
  return Response::Json(200, out);
}

Response GetTask(TaskService& service, Request& req) {
  auto id = TaskIdParam(req);
  if (!id) return ErrorResponse(id.error());
  auto task = service.Get(*id);
  if (!task) return ErrorResponse(task.error());
  return Response::Json(200, TaskDetailJson(*task));
}

// Optional body {"reason": "..."} (≤ 500 characters).
Result<std::optional<std::string>> CancelReason(const Request& req) {
  if (req.body.empty()) return std::optional<std::string>{};
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  if (ec || !body.is_object()) {
    return Fail(Error::Validation({FieldError{
        {"body"}, "must be a JSON object such as {\"reason\": \"...\"}", "json_invalid"}}));
  }
  const auto* reason = body.as_object().if_contains("reason");
  if (!reason || reason->is_null()) return std::optional<std::string>{};
  if (!reason->is_string() || Utf8Length(reason->as_string()) > 500) {
    return Fail(Error::Validation({FieldError{
        {"body", "reason"}, "must be a string of at most 500 characters", "string_type"}}));
  }
  const std::string_view text = reason->as_string();
  // A blank reason is no reason: error_msg stays null rather than "".
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>(std::string(text));
}

Response CancelTask(TaskService& service, Request& req) {
  auto id = TaskIdParam(req);
  if (!id) return ErrorResponse(id.error());
  auto reason = CancelReason(req);
  if (!reason) return ErrorResponse(reason.error());
  auto result = service.Cancel(*id, *reason);
  if (!result) return ErrorResponse(result.error());
  // Q → C happened now (200); R → the job stops at its next safe point (202).
  const int status = result->first == tasks::CancelOutcome::kCancelled ? 200 : 202;
  return Response::Json(status, TaskDetailJson(result->second))
      .WithHeader("Location", "/tasks/" + *id);
}

Response RetryTask(TaskService& service, Request& req) {
  auto id = TaskIdParam(req);
  if (!id) return ErrorResponse(id.error());
  auto task = service.Retry(*id);
  if (!task) return ErrorResponse(task.error());
  return Response::Json(202, TaskDetailJson(*task)).WithHeader("Location", "/tasks/" + *id);
}

}  // namespace

void AddTaskRoutes(Router& router, TaskService& service) {
  router.Add("GET", "/tasks", [&service](Request& r) { return ListTasks(service, r); });
  router.Add("GET", "/tasks/stats", [&service](Request& r) { return GetTaskStats(service, r); });
  router.Add("GET", "/tasks/{id}", [&service](Request& r) { return GetTask(service, r); });
  router.Add("POST", "/tasks/{id}/cancel",
             [&service](Request& r) { return CancelTask(service, r); });
  router.Add("POST", "/tasks/{id}/retry", [&service](Request& r) { return RetryTask(service, r); });
}

}  // namespace vectorize::http
