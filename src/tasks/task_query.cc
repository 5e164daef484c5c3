#include "tasks/task_query.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace vectorize::tasks {
namespace {

using storage::SqlStatement;
using storage::SqlValue;

// The columns each arm selects, plain and qualified with the alias `t` (for the join arm).
struct ArmColumns {
  std::string plain;
  std::string qualified;
};

ArmColumns ListColumns(TaskType type) {
  constexpr std::string_view kCols[] = {"id",       "task_status", "tag",
                                        "created_at", "end_date",  "error_msg",
                                        "progress", "progress_msg"};
  ArmColumns c{fmt::format("'{}' AS task_type", TaskTypeName(type)),
               fmt::format("'{}' AS task_type", TaskTypeName(type))};
  c.plain = "id, " + c.plain;
  c.qualified = "t.id, " + c.qualified;
  for (size_t i = 1; i < std::size(kCols); ++i) {
    c.plain += fmt::format(", {}", kCols[i]);
    c.qualified += fmt::format(", t.{}", kCols[i]);
  }
  return c;
}

ArmColumns StatsColumns(TaskType type) {
  return {fmt::format("'{}' AS task_type, task_status", TaskTypeName(type)),
          fmt::format("'{}' AS task_type, t.task_status", TaskTypeName(type))};
}

// Finished tasks are bucketed by lifetime (span_class k: ended less than 60 s × 4^k after
// creation, k = 0..9; class 10 is longer). A task created before the cutoff but ended after it
// has class k only if it was created within 60 s × 4^k before the cutoff, which bounds each
// class's index range scan (see the migration and docs/tasks.md).
constexpr int kSpanClasses = 11;
constexpr Micros kSpanBase = 60 * kMicrosPerSecond;

FieldError QueryError(std::string name, std::string msg, std::string type = "value_error") {
  return FieldError{{"query", std::move(name)}, std::move(msg), std::move(type)};
}

// Strict decimal integer: optional '-', digits only, no spaces, no '+', fits in int64.
std::optional<std::int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

size_t Utf8Length(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Parses an integer parameter within [lo, hi]; records a FieldError otherwise.
std::optional<std::int64_t> IntParam(std::string_view name, std::string_view value,
                                     std::int64_t lo, std::int64_t hi,
                                     std::vector<FieldError>& errors) {
  auto v = ParseInt(value);
  if (!v) {
    errors.push_back(QueryError(std::string(name),
                                value.empty() ? "must not be empty; expected an integer"
                                              : fmt::format("'{}' is not an integer", value),
                                "int_parsing"));
    return std::nullopt;
  }
  if (*v < lo || *v > hi) {
    errors.push_back(QueryError(std::string(name),
                                hi == INT64_MAX ? fmt::format("must be at least {}", lo)
                                                : fmt::format("must be between {} and {}", lo, hi)));
    return std::nullopt;
  }
  return v;
}

std::string TypeList() {
  std::string out;
  for (TaskType t : kAllTaskTypes) {
    if (!out.empty()) out += ", ";
    out += TaskTypeName(t);
  }
  return out;
}

std::string Ph(int n) { return "$" + std::to_string(n); }

// Appends the arms (one SELECT each) for one table; their union is the table's part of the
// window. Parameters: $1 cutoff, $2 tag (when filtering by tag); span bounds come from the
// `spans` CTE. Each arm is one index range scan that yields rows in (created_at, id) order, so
// the outer ORDER BY … LIMIT is a lazy merge.
void AppendArms(TaskType type, const std::vector<TaskStatus>& statuses, bool by_tag,
                const ArmColumns& cols, std::vector<std::string>& arms) {
  const std::string table(TaskTable(type));
  const std::string head = fmt::format("SELECT {} FROM {}", cols.plain, table);
  const std::string tag_cond = by_tag ? " AND tag = $2" : "";
  const bool all = statuses.size() == kAllTaskStatuses.size();

  std::vector<char> ended;
  if (all && !by_tag) {
    // Everything created inside the window, in one ordered scan of (created_at, id).
    arms.push_back(head + " WHERE created_at >= $1");
    for (char code : {'Q', 'R'}) {
      arms.push_back(
          fmt::format("{} WHERE task_status = '{}' AND created_at < $1", head, code));
    }
    ended = {'D', 'F', 'C'};
  } else {
    for (TaskStatus s : statuses) {
      const char code = TaskStatusCode(s);
      if (IsTerminal(s)) {
        arms.push_back(fmt::format("{} WHERE task_status = '{}' AND created_at >= $1{}", head,
                                   code, tag_cond));
        ended.push_back(code);
      } else {
        // Active work is never hidden by the window.
        arms.push_back(fmt::format("{} WHERE task_status = '{}'{}", head, code, tag_cond));
      }
    }
  }
  if (ended.empty()) return;
  // Created before the window, ended inside it.
  std::string in;
  for (char c : ended) in += fmt::format("{}'{}'", in.empty() ? "" : ", ", c);
  arms.push_back(fmt::format(
      "SELECT {} FROM spans JOIN {} t ON t.span_class = spans.k AND t.created_at >= spans.lo"
      " AND t.created_at < $1 WHERE t.end_date >= $1 AND t.task_status IN ({}){}",
      cols.qualified, table, in, by_tag ? " AND t.tag = $2" : ""));
}

std::string SpansCte(Micros cutoff, std::vector<SqlValue>& params) {
  std::string values;
  for (int k = 0; k < kSpanClasses; ++k) {
    Micros lo = INT64_MIN;
    if (k < kSpanClasses - 1) lo = cutoff - (kSpanBase << (2 * k));
    params.push_back(lo);
    values += fmt::format("{}({}, CAST({} AS BIGINT))", k ? ", " : "", k,
                          Ph(static_cast<int>(params.size())));
  }
  return "WITH spans(k, lo) AS (VALUES " + values + ") ";
}

std::vector<TaskType> TypesOf(const TaskQuery& q) {
  if (q.types.empty()) return {kAllTaskTypes.begin(), kAllTaskTypes.end()};
  return q.types;
}

}  // namespace

Micros WindowCutoff(Micros now, std::int64_t within_hours) {
  return now - std::clamp<std::int64_t>(within_hours, 0, kMaxWithinHours) * kMicrosPerHour;
}

Result<std::int64_t> ParseWithinHours(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<FieldError> errors;
  std::int64_t hours = 1;
  for (const auto& [k, v] : params) {
    if (k != "within_hours") continue;
    if (auto h = IntParam(k, v, 1, kMaxWithinHours, errors)) hours = *h;
  }
  if (!errors.empty()) return Fail(Error::Validation(std::move(errors)));
  return hours;
}

Result<TaskQuery> ParseTaskQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  TaskQuery q;
  std::vector<FieldError> errors;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      if (auto v = IntParam(key, value, 1, kMaxLimit, errors)) q.limit = static_cast<int>(*v);
    } else if (key == "offset") {
      if (auto v = IntParam(key, value, 0, INT64_MAX, errors)) q.offset = *v;
    } else if (key == "within_hours") {
      if (auto v = IntParam(key, value, 1, kMaxWithinHours, errors)) q.within_hours = *v;
    } else if (key == "task_type") {
      if (auto t = ParseTaskType(value)) {
        if (std::find(q.types.begin(), q.types.end(), *t) == q.types.end()) q.types.push_back(*t);
      } else {
        errors.push_back(QueryError(
            key,
            value.empty() ? fmt::format("must not be empty; expected one of {}", TypeList())
                          : fmt::format("unknown task type '{}'; expected one of {}", value,
                                        TypeList()),
            "enum"));
      }
    } else if (key == "status") {
      if (auto s = ParseTaskStatus(value)) {
        if (std::find(q.statuses.begin(), q.statuses.end(), *s) == q.statuses.end()) {
          q.statuses.push_back(*s);
        }
      } else {
        errors.push_back(QueryError(
            key,
            value.empty() ? "must not be empty; expected one of Q, R, D, F, C"
                          : fmt::format("unknown status '{}'; expected one of Q (queued), "
                                        "R (running), D (done), F (failed), C (cancelled)",
                                        value),
            "enum"));
      }
    } else if (key == "tag") {
      if (value.empty()) {
        errors.push_back(QueryError(key, "must not be empty"));
      } else if (Utf8Length(value) > kMaxTagLength) {
        errors.push_back(QueryError(
            key, fmt::format("must be at most {} characters (got {})", kMaxTagLength,
                             Utf8Length(value)),
            "string_too_long"));
      } else {
        q.tag = value;
      }
    }
  }
  if (!errors.empty()) return Fail(Error::Validation(std::move(errors)));
  // Canonical order keeps the set of distinct SQL texts (and cached statements) small.
  std::sort(q.types.begin(), q.types.end());
  std::sort(q.statuses.begin(), q.statuses.end());
  return q;
}

storage::SqlStatement BuildListStatement(const TaskQuery& query, Micros now,
                                         storage::Dialect dialect) {
  SqlStatement st;
  const Micros cutoff = WindowCutoff(now, query.within_hours);
  st.params.push_back(cutoff);                                                   // $1
  st.params.push_back(query.tag ? SqlValue(*query.tag) : SqlValue(std::monostate{}));  // $2
  const std::vector<TaskStatus> statuses =
      query.statuses.empty()
          ? std::vector<TaskStatus>(kAllTaskStatuses.begin(), kAllTaskStatuses.end())
          : query.statuses;

  std::vector<std::string> arms;
  for (TaskType type : TypesOf(query)) {
    AppendArms(type, statuses, query.tag.has_value(), ListColumns(type), arms);
  }
  const bool uses_spans = std::any_of(arms.begin(), arms.end(), [](const std::string& a) {
    return a.find(" FROM spans ") != std::string::npos;
  });
  if (uses_spans) st.sql = SpansCte(cutoff, st.params);
  for (size_t i = 0; i < arms.size(); ++i) {
    if (i) st.sql += " UNION ALL ";
    st.sql += arms[i];
  }
  st.sql += " ORDER BY created_at DESC, id DESC";
  if (query.limit) {
    st.params.push_back(std::int64_t{*query.limit});
    st.sql += " LIMIT " + Ph(static_cast<int>(st.params.size()));
  } else if (query.offset > 0 && dialect == storage::Dialect::kSqlite) {
    st.sql += " LIMIT -1";
  }
  if (query.offset > 0) {
    st.params.push_back(query.offset);
    st.sql += " OFFSET " + Ph(static_cast<int>(st.params.size()));
  }
  return st;
}

storage::SqlStatement BuildStatsStatement(std::int64_t within_hours, Micros now) {
  SqlStatement st;
  const Micros cutoff = WindowCutoff(now, within_hours);
  st.params.push_back(cutoff);
  st.params.push_back(std::monostate{});
  std::vector<std::string> arms;
  const std::vector<TaskStatus> all(kAllTaskStatuses.begin(), kAllTaskStatuses.end());
  for (TaskType type : kAllTaskTypes) AppendArms(type, all, false, StatsColumns(type), arms);
  st.sql = SpansCte(cutoff, st.params) + "SELECT task_type, task_status, count(*) FROM (";
  for (size_t i = 0; i < arms.size(); ++i) {
    if (i) st.sql += " UNION ALL ";
    st.sql += arms[i];
  }
  st.sql += ") w GROUP BY task_type, task_status ORDER BY task_type, task_status";
  return st;
}

}  // namespace vectorize::tasks
