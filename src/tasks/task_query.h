#pragma once
// The GET /tasks query (seed tasks-guide.md, SPEC §2.2): parsing and validating its parameters,
// and building the SQL that answers it as a merge of per-type, per-state index range scans.
// Pure logic: no I/O. Thread safety: free functions on values.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "storage/sql.h"
#include "tasks/task.h"

namespace vectorize::tasks {

inline constexpr int kMaxLimit = 100;
inline constexpr int kMaxTagLength = 100;
// Far beyond any retention; keeps the cutoff arithmetic away from overflow.
inline constexpr std::int64_t kMaxWithinHours = 1'000'000;

struct TaskQuery {
  std::vector<TaskType> types;       // empty = every type
  std::vector<TaskStatus> statuses;  // empty = every status
  std::optional<std::string> tag;
  std::int64_t within_hours = 1;
  std::optional<int> limit;  // none = every task in the window
  std::int64_t offset = 0;
};

// Validates query parameters (name, value pairs in request order; repeated keys allowed).
// Unknown parameters are ignored. For a single-valued parameter given twice, the last wins.
// Errors: invalid_argument with one FieldError per problem, loc = {"query", name}.
[[nodiscard]] Result<TaskQuery> ParseTaskQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

// The window's lower bound: tasks that ended before it are outside the window.
Micros WindowCutoff(Micros now, std::int64_t within_hours);

// Columns of each row the list statement returns, in order.
// id, task_type, task_status, tag, created_at, end_date, error_msg, progress, progress_msg
inline constexpr int kListColumns = 9;

// SELECT … UNION ALL … ORDER BY created_at DESC, id DESC [LIMIT … OFFSET …].
storage::SqlStatement BuildListStatement(const TaskQuery& query, Micros now,
                                         storage::Dialect dialect);

// Per type, the created_at of its oldest queued task: rows of (task_type, min created_at), no
// row for a type with nothing queued. Each arm is one seek of the (task_status, created_at, id)
// index.
storage::SqlStatement BuildOldestQueuedStatement();

// Counts per (task_type, task_status) of the tasks GET /tasks would list for `query` (its types,
// statuses, tag and window; limit and offset do not apply): rows of (task_type, task_status, n).
storage::SqlStatement BuildStatsStatement(const TaskQuery& query, Micros now);

}  // namespace vectorize::tasks
