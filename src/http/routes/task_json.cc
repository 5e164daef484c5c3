#include "http/routes/task_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/json_text.h"

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

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void AppendOptString(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    AppendJsonString(out, *s);
  } else {
    out += "null";
  }
}

}  // namespace

void AppendTaskListJson(std::string& out, const std::vector<tasks::TaskRecord>& list) {
  out.reserve(out.size() + list.size() * 260 + 2);
  out.push_back('[');
  bool first = true;
  for (const auto& t : list) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"id\":";
    AppendJsonString(out, t.id);
    out += ",\"task_type\":\"";
    out += tasks::TaskTypeName(t.type);
    out += "\",\"task_status\":\"";
    out.push_back(tasks::TaskStatusCode(t.status));
    out += "\",\"tag\":";
    AppendOptString(out, t.tag);
    out += ",\"created_at\":\"";
    out += FormatRfc3339(t.created_at);
    out += "\",\"end_date\":";
    if (t.end_date) {
      out.push_back('"');
      out += FormatRfc3339(*t.end_date);
      out.push_back('"');
    } else {
      out += "null";
    }
    out += ",\"error_msg\":";
    AppendOptString(out, t.error_msg);
    out += ",\"progress\":";
    if (t.progress) {
      AppendJsonDouble(out, *t.progress);
    } else {
      out += "null";
    }
    out += ",\"progress_msg\":";
    AppendOptString(out, t.progress_msg);
    out.push_back('}');
  }
  out.push_back(']');
}

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
