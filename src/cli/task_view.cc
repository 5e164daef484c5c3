#include "cli/task_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

namespace vectorize::cli {
namespace {

std::optional<std::string> OptString(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<Micros> OptTime(const boost::json::object& o, std::string_view key) {
  auto s = OptString(o, key);
  if (!s) return std::nullopt;
  return ParseRfc3339(*s);
}

std::optional<double> OptNumber(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

// Length in bytes of the UTF-8 sequence starting with `c` (1 for stray bytes).
size_t SeqLen(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

// The last 8 hex digits: ids are UUIDv7, whose leading digits encode the creation time and so
// repeat for every task created in the same minute; the trailing ones are random.
std::string ShortId(const std::string& id, bool wide) {
  return wide || id.size() <= 8 ? id : id.substr(id.size() - 8);
}

std::string CreatedCell(const TaskView& t, Micros now) {
  return t.created_at ? FormatAgo(now, *t.created_at) : "-";
}

// Run time so far (R) or in total (D, F, C); "-" while queued.
std::string DurationCell(const TaskView& t, Micros now) {
  const auto from = t.started_at ? t.started_at : t.created_at;
  if (!from || t.status == 'Q') return "-";
  if (t.end_date) return FormatDuration(*t.end_date - *from);
  if (t.status == 'R') return FormatDuration(now - *from);
  return "-";
}

void AppendPretty(std::string& out, const boost::json::value& v, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& kv : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + "  " + boost::json::serialize(boost::json::value(kv.key())) + ": ";
      AppendPretty(out, kv.value(), indent + 2);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& e : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + "  ";
      AppendPretty(out, e, indent + 2);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

Result<TaskView> ParseTask(const boost::json::value& v) {
  if (!v.is_object()) return Fail(Error::Internal("a task is not a JSON object"));
  const auto& o = v.as_object();
  TaskView t;
  auto id = OptString(o, "id");
  auto type = OptString(o, "task_type");
  auto status = OptString(o, "task_status");
  if (!id || !type || !status || status->size() != 1) {
    return Fail(Error::Internal("a task lacks id, task_type or task_status"));
  }
  t.id = *id;
  t.type = *type;
  t.status = (*status)[0];
  t.tag = OptString(o, "tag");
  t.created_at = OptTime(o, "created_at");
  t.end_date = OptTime(o, "end_date");
  t.started_at = OptTime(o, "started_at");
  t.error_msg = OptString(o, "error_msg");
  t.progress = OptNumber(o, "progress");
  t.progress_msg = OptString(o, "progress_msg");
  return t;
}

Result<std::vector<TaskView>> ParseTaskList(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_array()) return Fail(Error::Internal("the task list is not a JSON array"));
  std::vector<TaskView> out;
  out.reserve(v.as_array().size());
  for (const auto& e : v.as_array()) {
    auto t = ParseTask(e);
    if (!t) return Fail(t.error());
    out.push_back(std::move(*t));
  }
  return out;
}

std::string_view StatusName(char status) {
  switch (status) {
    case 'Q': return "QUEUED";
    case 'R': return "RUNNING";
    case 'D': return "DONE";
    case 'F': return "FAILED";
    case 'C': return "CANCELLED";
    default: return "?";
  }
}

std::string_view StatusColor(char status) {
  switch (status) {
    case 'Q': return "\x1b[90m";
    case 'R': return "\x1b[34m";
    case 'D': return "\x1b[32m";
    case 'F': return "\x1b[31m";
    case 'C': return "\x1b[33m";
    default: return "";
  }
}

std::string FormatAgo(Micros now, Micros t) {
  const Micros d = now - t;
  const Micros a = d < 0 ? -d : d;
  const Micros s = a / kMicrosPerSecond;
  if (s < 1) return "just now";
  std::string amount;
  if (s < 60) {
    amount = fmt::format("{}s", s);
  } else if (s < 3600) {
    amount = fmt::format("{}m", s / 60);
  } else if (s < 86400) {
    amount = fmt::format("{}h", s / 3600);
  } else {
    amount = fmt::format("{}d", s / 86400);
  }
  return d < 0 ? "in " + amount : amount + " ago";
}

std::string FormatDuration(Micros d) {
  if (d < 0) d = 0;
  if (d < kMicrosPerSecond) return fmt::format("{}ms", d / 1000);
  const Micros s = d / kMicrosPerSecond;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string ProgressBar(double fraction, int width) {
  if (width < 1) width = 1;
  if (!(fraction >= 0)) fraction = 0;  // also NaN
  if (fraction > 1) fraction = 1;
  const int filled = static_cast<int>(std::floor(fraction * width + 1e-9));
  std::string out = "[";
  out.append(static_cast<size_t>(filled), '#');
  out.append(static_cast<size_t>(width - filled), '.');
  out += "]";
  return out;
}

std::string FormatPercent(double fraction) {
  if (!(fraction >= 0)) fraction = 0;
  if (fraction > 1) fraction = 1;
  return fmt::format("{}%", static_cast<int>(std::floor(fraction * 100 + 1e-9)));
}

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += SeqLen(static_cast<unsigned char>(s[i]))) ++n;
  return n;
}

std::string Truncate(std::string_view s, size_t width) {
  std::string out;
  const bool cut = DisplayWidth(s) > width;
  const size_t keep = cut ? (width == 0 ? 0 : width - 1) : width;
  size_t cells = 0;
  for (size_t i = 0; i < s.size() && cells < keep; ++cells) {
    const size_t len = std::min(SeqLen(static_cast<unsigned char>(s[i])), s.size() - i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (len == 1 && (c < 0x20 || c == 0x7f)) {
      out.push_back(' ');
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  if (cut && width > 0) out += "…";
  return out;
}

std::string PadRight(std::string_view s, size_t width) {
  std::string out(s);
  const size_t w = DisplayWidth(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string ProgressCell(const TaskView& t, const ViewOptions& options, size_t width) {
  std::string text;
  if (t.status == 'F' && t.error_msg) {
    text = "error: " + *t.error_msg;
  } else if (t.status == 'R' || (t.status == 'Q' && t.progress_msg)) {
    if (t.progress) {
      if (options.bars && width >= 20) {
        const int bar = static_cast<int>(std::min<size_t>(20, width / 3));
        text = ProgressBar(*t.progress, bar) + " " + FormatPercent(*t.progress);
      } else {
        text = FormatPercent(*t.progress);
      }
    }
    if (t.progress_msg && !t.progress_msg->empty()) {
      if (!text.empty()) text.push_back(' ');
      text.append(*t.progress_msg);
    }
  } else if (t.status == 'D') {
    return Truncate("100%", width);
  }
  return Truncate(text.empty() ? std::string_view("-") : std::string_view(text), width);
}

std::string FormatTaskTable(const std::vector<TaskView>& tasks, const ViewOptions& options) {
  if (tasks.empty()) return "No tasks.\n";
  enum Col { kId, kType, kStatus, kTag, kCreated, kDuration, kProgress, kCols };
  static constexpr std::string_view kHeaders[kCols] = {"ID",      "TYPE",     "STATUS",  "TAG",
                                                       "CREATED", "DURATION", "PROGRESS"};
  std::vector<std::array<std::string, kCols>> rows;
  rows.reserve(tasks.size());
  size_t width[kCols];
  for (int c = 0; c < kCols; ++c) width[c] = kHeaders[c].size();
  size_t longest_tag = 0;
  for (const auto& t : tasks) {
    std::array<std::string, kCols> r;
    r[kId] = ShortId(t.id, options.wide);
    r[kType] = t.type;
    r[kStatus] = std::string(StatusName(t.status));
    r[kTag] = t.tag ? *t.tag : "-";
    r[kCreated] = CreatedCell(t, options.now);
    r[kDuration] = DurationCell(t, options.now);
    for (int c : {kId, kType, kStatus, kCreated, kDuration}) {
      width[c] = std::max(width[c], DisplayWidth(r[c]));
    }
    longest_tag = std::max(longest_tag, DisplayWidth(r[kTag]));
    rows.push_back(std::move(r));
  }
  // TAG and PROGRESS share what the fixed columns leave, PROGRESS getting the larger part.
  constexpr size_t kGap = 2;
  size_t fixed = kGap * (kCols - 1);
  for (int c : {kId, kType, kStatus, kCreated, kDuration}) fixed += width[c];
  const size_t left = options.width > fixed ? options.width - fixed : 0;
  width[kTag] = std::clamp(longest_tag, size_t{3}, std::max<size_t>(3, left * 2 / 5));
  width[kProgress] = std::max<size_t>(8, left > width[kTag] ? left - width[kTag] : 0);

  std::string out;
  auto append_row = [&](const std::array<std::string, kCols>& cells, char status) {
    std::string line;
    for (int c = 0; c < kCols; ++c) {
      if (c > 0) line.append(kGap, ' ');
      if (c == kProgress) {
        line += cells[c];
      } else if (c == kStatus && options.color && !StatusColor(status).empty()) {
        line += StatusColor(status);
        line += cells[c];
        line += kAnsiReset;
        line.append(width[c] - DisplayWidth(cells[c]), ' ');
      } else {
        line += PadRight(Truncate(cells[c], width[c]), width[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  std::array<std::string, kCols> header;
  for (int c = 0; c < kCols; ++c) header[c] = std::string(kHeaders[c]);
  append_row(header, '?');
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i][kProgress] = ProgressCell(tasks[i], options, width[kProgress]);
    append_row(rows[i], tasks[i].status);
  }
  return out;
}

std::string PrettyJson(const boost::json::value& v, int indent) {
  std::string out(static_cast<size_t>(indent), ' ');
  AppendPretty(out, v, indent);
  return out;
}

std::string FormatTaskDetail(const boost::json::object& o, const ViewOptions& options) {
  auto task = ParseTask(o);
  std::string out;
  auto line = [&](std::string_view key, std::string_view value) {
    out += fmt::format("{:<18}{}\n", std::string(key) + ":", value);
  };
  auto text = [&](std::string_view key) -> std::string {
    auto s = OptString(o, key);
    return s ? Truncate(*s, 100000) : "-";
  };
  auto time = [&](std::string_view key) -> std::string {
    auto s = OptString(o, key);
    if (!s) return "-";
    auto t = ParseRfc3339(*s);
    return t ? fmt::format("{} ({})", *s, FormatAgo(options.now, *t)) : *s;
  };
  line("id", text("id"));
  line("type", text("task_type"));
  std::string status = text("task_status");
  if (task) {
    status = fmt::format("{} ({})", task->status, StatusName(task->status));
    if (options.color && !StatusColor(task->status).empty()) {
      status = fmt::format("{}{}{}", StatusColor(task->status), status, kAnsiReset);
    }
  }
  line("status", status);
  line("tag", text("tag"));
  line("created_at", time("created_at"));
  line("started_at", time("started_at"));
  line("end_date", time("end_date"));
  if (task && task->status != 'Q') line("duration", DurationCell(*task, options.now));
  line("updated_at", time("updated_at"));
  if (task && task->progress) {
    line("progress", ProgressBar(*task->progress, 20) + " " + FormatPercent(*task->progress));
  } else {
    line("progress", "-");
  }
  line("progress_msg", text("progress_msg"));
  const auto* attempts = o.if_contains("attempts");
  const auto* max_attempts = o.if_contains("max_attempts");
  if (attempts && max_attempts) {
    line("attempts", fmt::format("{} of {}", boost::json::serialize(*attempts),
                                 boost::json::serialize(*max_attempts)));
  }
  if (o.contains("run_after")) line("run_after", time("run_after"));
  if (o.contains("worker_id")) line("worker", text("worker_id"));
  if (o.contains("lease_expires_at")) line("lease_expires_at", time("lease_expires_at"));
  if (const auto* c = o.if_contains("cancel_requested"); c && c->is_bool()) {
    line("cancel_requested", c->as_bool() ? "yes" : "no");
  }
  line("error_msg", text("error_msg"));
  for (std::string_view key : {"inputs", "result"}) {
    const auto* v = o.if_contains(key);
    if (!v) continue;
    if (v->is_null()) {
      line(key, "-");
    } else {
      out += std::string(key) + ":\n" + PrettyJson(*v, 2) + "\n";
    }
  }
  return out;
}

}  // namespace vectorize::cli
