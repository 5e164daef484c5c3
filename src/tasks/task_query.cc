#include "tasks/task_query.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/utf8.h"

namespace vectorize::tasks {
namespace {

using storage::SqlStatement;
using storage::SqlValue;

// Finished tasks are bucketed by lifetime (span_class k: ended less than 60 s × 4^k after
// creation, k = 0..9; class 10 is longer), computed by a generated column (migration 0001).
constexpr int kSpanClasses = 11;
constexpr Micros kSpanBase = 60 * kMicrosPerSecond;

std::string ListColumns(TaskType type) {
  return fmt::format(
      "id, '{}' AS task_type, task_status, tag, created_at, end_date, error_msg, progress, "
      "progress_msg",
      TaskTypeName(type));
}

// What the first phase of a two-phase page selects: only columns the indexes cover.
std::string KeyColumns(TaskType type) {
  return fmt::format("'{}' AS task_type, id, created_at", TaskTypeName(type));
}

std::string StatsColumns(TaskType type) {
  return fmt::format("'{}' AS task_type, task_status", TaskTypeName(type));
}

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

// Parses an integer parameter within [lo, hi]; records a FieldError otherwise.
std::optional<std::int64_t> IntParam(std::string_view name, std::string_view value, std::int64_t lo,
                                     std::int64_t hi, std::vector<FieldError>& errors) {
  auto v = ParseInt(value);
  // An integer, but beyond 64 bits: out of range rather than "not an integer".
  const auto digits = value.substr(!value.empty() && value[0] == '-' ? 1 : 0);
  const bool huge =
      !v && !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!v && !huge) {
    errors.push_back(
        QueryError(std::string(name),
                   value.empty() ? "must not be empty; expected an integer"
                                 : fmt::format("'{}' is not an integer", SanitizeUtf8(value, 40)),
                   "int_parsing"));
    return std::nullopt;
  }
  if (huge || *v < lo || *v > hi) {
    errors.push_back(QueryError(
        std::string(name), hi == INT64_MAX ? fmt::format("must be at least {}", lo)
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

// Parameters every statement shares: $1 cutoff, $2 tag (NULL when not filtering by tag),
// $3..$12 the lower created_at bound of span classes 0..9 (see AppendArms).
constexpr int kFirstSpanParam = 3;

void PushSharedParams(std::vector<SqlValue>& params, Micros cutoff,
                      const std::optional<std::string>& tag) {
  params.push_back(cutoff);
  params.push_back(tag ? SqlValue(*tag) : SqlValue(std::monostate{}));
  for (int k = 0; k < kSpanClasses - 1; ++k) params.push_back(cutoff - (kSpanBase << (2 * k)));
}

// "(task_status = 'D' OR task_status = 'F')": an OR chain, which SQLite evaluates in place (a
// constant IN list would build a temporary table).
std::string StatusFilter(const std::vector<char>& codes) {
  std::string out;
  for (char c : codes) out += fmt::format("{}task_status = '{}'", out.empty() ? "" : " OR ", c);
  return "(" + out + ")";
}

// Appends the arms (one SELECT each) for one table; their union is the table's part of the
// window. Each arm is one index range scan that yields rows in (created_at, id) order, so the
// outer ORDER BY … LIMIT is a lazy merge that reads about offset + limit rows in all.
void AppendArms(TaskType type, const std::vector<TaskStatus>& statuses, bool by_tag,
                const std::string& cols, std::vector<std::string>& arms,
                bool fold_straddling = false) {
  const std::string head = fmt::format("SELECT {} FROM {}", cols, TaskTable(type));
  const std::string tag_cond = by_tag ? " AND tag = $2" : "";
  const bool all = statuses.size() == kAllTaskStatuses.size();

  std::vector<char> ended;
  if (all && !by_tag) {
    // Everything created inside the window, in one ordered scan of (created_at, id).
    arms.push_back(head + " WHERE created_at >= $1");
    for (char code : {'Q', 'R'}) {
      arms.push_back(fmt::format("{} WHERE task_status = '{}' AND created_at < $1", head, code));
    }
    ended = {'D', 'F', 'C'};
  } else {
    for (TaskStatus s : statuses) {
      const char code = TaskStatusCode(s);
      if (IsTerminal(s)) {
        arms.push_back(fmt::format("{} WHERE task_status = '{}' AND created_at >= $1{}", head, code,
                                   tag_cond));
        ended.push_back(code);
      } else {
        // Active work is never hidden by the window.
        arms.push_back(fmt::format("{} WHERE task_status = '{}'{}", head, code, tag_cond));
      }
    }
  }
  if (ended.empty()) return;
  // Created before the window, ended inside it ("straddling" the cutoff). A finished task of
  // span class k ended less than 60 s × 4^k after it was created, so if it straddles the cutoff
  // it was created at most that long before it: one short, ordered range scan per class of the
  // covering index (span_class, created_at, id, end_date, task_status, tag).
  const std::string status_cond = ended.size() == 3 ? "" : " AND " + StatusFilter(ended);
  if (fold_straddling) {
    // PostgreSQL plans every arm of every request (~0.15 ms each), so there the classes share
    // one arm: a BitmapOr of the same short ranges, then a top-N sort of the few rows found.
    std::string ranges;
    for (int k = 0; k < kSpanClasses; ++k) {
      ranges += k ? " OR " : "";
      ranges += k < kSpanClasses - 1
                    ? fmt::format("(span_class = {} AND created_at >= ${})", k, kFirstSpanParam + k)
                    : fmt::format("span_class = {}", k);
    }
    // OFFSET 0 fences the arm: the page's ORDER BY … LIMIT (cap_arms) cannot be pushed into an
    // ordered scan of created_at that filters on end_date. A generic plan (paginated pages are
    // prepared) would otherwise pick that scan, and when nothing straddles the cutoff it reads the
    // whole index looking for rows that do not exist (245–355 ms at 1M instead of 1.4–1.6 ms).
    arms.push_back(fmt::format(
        "SELECT * FROM ({} WHERE created_at < $1 AND end_date >= $1 AND ({}){}{} OFFSET 0) s", head,
        ranges, status_cond, tag_cond));
    return;
  }
  for (int k = 0; k < kSpanClasses; ++k) {
    const std::string lower =
        k < kSpanClasses - 1 ? fmt::format(" AND created_at >= ${}", kFirstSpanParam + k) : "";
    arms.push_back(
        fmt::format("{} WHERE span_class = {} AND created_at < $1{} AND end_date >= $1{}{}", head,
                    k, lower, status_cond, tag_cond));
  }
}

std::string UnionAll(const std::vector<std::string>& arms) {
  std::string out;
  for (size_t i = 0; i < arms.size(); ++i) {
    if (i) out += " UNION ALL ";
    out += arms[i];
  }
  return out;
}

std::vector<TaskType> TypesOf(const TaskQuery& q) {
  if (q.types.empty()) return {kAllTaskTypes.begin(), kAllTaskTypes.end()};
  return q.types;
}

}  // namespace

Micros WindowCutoff(Micros now, std::int64_t within_hours) {
  return now - std::clamp<std::int64_t>(within_hours, 0, kMaxWithinHours) * kMicrosPerHour;
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
                          : fmt::format("unknown task type '{}'; expected one of {}",
                                        SanitizeUtf8(value, 40), TypeList()),
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
                                        SanitizeUtf8(value, 40)),
            "enum"));
      }
    } else if (key == "tag") {
      if (value.empty()) {
        errors.push_back(QueryError(key, "must not be empty"));
      } else if (!IsValidUtf8(value)) {
        errors.push_back(QueryError(key, "must be valid UTF-8 text", "string_unicode"));
      } else if (Utf8Length(value) > kMaxTagLength) {
        errors.push_back(QueryError(
            key,
            fmt::format("must be at most {} characters (got {})", kMaxTagLength, Utf8Length(value)),
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
  PushSharedParams(st.params, WindowCutoff(now, query.within_hours), query.tag);
  const std::vector<TaskStatus> statuses =
      query.statuses.empty()
          ? std::vector<TaskStatus>(kAllTaskStatuses.begin(), kAllTaskStatuses.end())
          : query.statuses;
  auto paginate = [&](std::string& sql) {
    sql += " ORDER BY created_at DESC, id DESC";
    if (query.limit) {
      st.params.push_back(std::int64_t{*query.limit});
      sql += " LIMIT " + Ph(static_cast<int>(st.params.size()));
    } else if (query.offset > 0 && dialect == storage::Dialect::kSqlite) {
      sql += " LIMIT -1";
    }
    if (query.offset > 0) {
      st.params.push_back(query.offset);
      sql += " OFFSET " + Ph(static_cast<int>(st.params.size()));
    }
  };

  // PostgreSQL (before 17) merges UNION ALL arms in index order only when each arm is a
  // subquery with its own ORDER BY … LIMIT: arms with WHERE clauses are not flattened into an
  // append relation (is_safe_append_member), so the outer ORDER BY would sort the whole window.
  // Capping each arm at offset + limit rows makes every arm an ordered index range scan that stops
  // early, and the union a Merge Append: a page costs about offset + limit index steps per arm.
  auto cap_arms = [&](std::vector<std::string>& arms) {
    // (A single arm is one ordered index scan already, and may not carry two ORDER BYs.)
    if (dialect != storage::Dialect::kPostgres || !query.limit || arms.size() < 2) return;
    st.params.push_back(std::int64_t{*query.limit} + query.offset);
    const std::string cap = Ph(static_cast<int>(st.params.size()));
    for (std::string& arm : arms) {
      arm = "(" + arm + " ORDER BY created_at DESC, id DESC LIMIT " + cap + ")";
    }
  };

  if (query.offset == 0) {
    std::vector<std::string> arms;
    for (TaskType type : TypesOf(query)) {
      AppendArms(type, statuses, query.tag.has_value(), ListColumns(type), arms,
                 dialect == storage::Dialect::kPostgres);
    }
    cap_arms(arms);
    st.sql = UnionAll(arms);
    paginate(st.sql);
    return st;
  }
  // Two phases: find the page's keys in the covering indexes (skipping `offset` index entries,
  // not rows), then read just those rows by primary key.
  std::vector<std::string> key_arms, row_arms;
  for (TaskType type : TypesOf(query)) {
    AppendArms(type, statuses, query.tag.has_value(), KeyColumns(type), key_arms,
               dialect == storage::Dialect::kPostgres);
    row_arms.push_back(fmt::format(
        "SELECT t.id AS id, '{0}' AS task_type, t.task_status AS task_status, t.tag AS tag, "
        "t.created_at AS created_at, t.end_date AS end_date, t.error_msg AS error_msg, "
        "t.progress AS progress, t.progress_msg AS progress_msg FROM page JOIN {1} t "
        "ON t.id = page.id "
        "WHERE page.task_type = '{0}'",
        TaskTypeName(type), TaskTable(type)));
  }
  cap_arms(key_arms);
  std::string page = UnionAll(key_arms);
  paginate(page);
  st.sql =
      "WITH page AS (" + page + ") " + UnionAll(row_arms) + " ORDER BY created_at DESC, id DESC";
  return st;
}

storage::SqlStatement BuildOldestQueuedStatement() {
  SqlStatement st;
  std::vector<std::string> arms;
  for (TaskType type : kAllTaskTypes) {
    arms.push_back(fmt::format(
        "SELECT * FROM (SELECT '{0}' AS task_type, created_at FROM {1} WHERE task_status = 'Q' "
        "ORDER BY task_status, created_at LIMIT 1) q_{0}",
        TaskTypeName(type), TaskTable(type)));
  }
  st.sql = UnionAll(arms);
  return st;
}

storage::SqlStatement BuildStatsStatement(const TaskQuery& query, Micros now) {
  SqlStatement st;
  PushSharedParams(st.params, WindowCutoff(now, query.within_hours), query.tag);
  std::vector<std::string> arms;
  const std::vector<TaskStatus> statuses =
      query.statuses.empty()
          ? std::vector<TaskStatus>(kAllTaskStatuses.begin(), kAllTaskStatuses.end())
          : query.statuses;
  for (TaskType type : TypesOf(query)) {
    AppendArms(type, statuses, query.tag.has_value(), StatsColumns(type), arms);
  }
  st.sql = "SELECT task_type, task_status, count(*) FROM (" + UnionAll(arms) +
           ") w GROUP BY task_type, task_status ORDER BY task_type, task_status";
  return st;
}

}  // namespace vectorize::tasks
