#pragma once
// Internal to the task stores (SqliteTaskStore, PostgresTaskStore): what both write and read the
// same way — the detail columns, reading them from a row, and the checks on a new task. A `Row`
// is any accessor with Text, OptText, Int, OptInt and OptDouble by column index.
// Thread safety: constants and pure functions.

#include <cstddef>
#include <string_view>

#include "common/error.h"
#include "tasks/task.h"
#include "tasks/task_query.h"

namespace vectorize::tasks::columns {

// The columns of TaskDetail, in the order ReadDetail reads them.
inline constexpr std::string_view kDetail =
    "id, task_status, tag, created_at, end_date, error_msg, progress, progress_msg, started_at, "
    "updated_at, attempts, max_attempts, run_after, worker_id, lease_expires_at, "
    "cancel_requested, inputs, result";
inline constexpr int kDetailCount = 18;

// task_status, tag, created_at, end_date, error_msg, progress, progress_msg from the seven
// columns starting at `first` (the order of kDetail and of the list statement).
template <class Row>
void ReadRecord(const Row& row, int first, TaskRecord& r) {
  r.status = ParseTaskStatus(row.Text(first)).value_or(TaskStatus::kQueued);
  r.tag = row.OptText(first + 1);
  r.created_at = row.Int(first + 2);
  r.end_date = row.OptInt(first + 3);
  r.error_msg = row.OptText(first + 4);
  r.progress = row.OptDouble(first + 5);
  r.progress_msg = row.OptText(first + 6);
}

// A TaskDetail from the kDetail columns.
template <class Row>
TaskDetail ReadDetail(const Row& row, TaskType type) {
  TaskDetail d;
  d.id = row.Text(0);
  d.type = type;
  ReadRecord(row, 1, d);
  d.started_at = row.OptInt(8);
  d.updated_at = row.Int(9);
  d.attempts = static_cast<int>(row.Int(10));
  d.max_attempts = static_cast<int>(row.Int(11));
  d.run_after = row.Int(12);
  d.worker_id = row.OptText(13);
  d.lease_expires_at = row.OptInt(14);
  d.cancel_requested = row.Int(15) != 0;
  d.inputs = row.Text(16);
  d.result = row.OptText(17);
  return d;
}

// What every store refuses in a new task (the API validated it already; this guards other
// producers): a tag over 100 characters (checked in bytes, at most 4 per character), inputs
// that are not a JSON object.
inline Status CheckNewTask(const NewTask& t) {
  if (t.tag && t.tag->size() > static_cast<std::size_t>(kMaxTagLength) * 4) {
    return Fail(Error::InvalidArgument("tag must be at most 100 characters"));
  }
  if (t.inputs.empty() || t.inputs.front() != '{') {
    return Fail(Error::InvalidArgument("task inputs must be a JSON object"));
  }
  return {};
}

}  // namespace vectorize::tasks::columns
