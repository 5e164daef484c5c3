#include "http/routes/task_json.h"

#include <boost/json/parse.hpp>

namespace vectorize::http {
namespace {

boost::json::value OptTime(const std::optional<Micros>& t) {
  if (!t) return nullptr;
  return boost::json::value(FormatRfc3339(*t));
}

boost::json::value OptString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return boost::json::value(*s);
}

// Stored JSON is written by the service itself; a malformed value is shown as null rather
// than failing the whole response.
boost::json::value StoredJson(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

}  // namespace

boost::json::object TaskRecordJson(const tasks::TaskRecord& t) {
  boost::json::object o;
  o["id"] = t.id;
  o["task_type"] = std::string(tasks::TaskTypeName(t.type));
  o["task_status"] = std::string(1, tasks::TaskStatusCode(t.status));
  o["tag"] = OptString(t.tag);
  o["created_at"] = FormatRfc3339(t.created_at);
  o["end_date"] = OptTime(t.end_date);
  o["error_msg"] = OptString(t.error_msg);
  o["progress"] = t.progress ? boost::json::value(*t.progress) : boost::json::value(nullptr);
  o["progress_msg"] = OptString(t.progress_msg);
  return o;
}

boost::json::object TaskDetailJson(const tasks::TaskDetail& t) {
  boost::json::object o = TaskRecordJson(t);
  o["started_at"] = OptTime(t.started_at);
  o["updated_at"] = FormatRfc3339(t.updated_at);
  o["attempts"] = t.attempts;
  o["max_attempts"] = t.max_attempts;
  o["run_after"] = FormatRfc3339(t.run_after);
  o["worker_id"] = OptString(t.worker_id);
  o["lease_expires_at"] = OptTime(t.lease_expires_at);
  o["cancel_requested"] = t.cancel_requested;
  o["inputs"] = StoredJson(t.inputs);
  o["result"] = t.result ? StoredJson(*t.result) : boost::json::value(nullptr);
  return o;
}

}  // namespace vectorize::http
