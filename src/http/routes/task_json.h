#pragma once
// JSON forms of tasks as the API returns them (SPEC §2.1; seed "Response Structure").

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace vectorize::http {

// id, task_type, task_status, tag, created_at, end_date, error_msg, progress, progress_msg.
boost::json::object TaskRecordJson(const tasks::TaskRecord& task);
// Appends a JSON array of records to `out`, byte-for-byte what serializing TaskRecordJson of each
// would give, without building a DOM: GET /tasks may return thousands of rows.
void AppendTaskListJson(std::string& out, const std::vector<tasks::TaskRecord>& list);
// The record plus started_at, updated_at, attempts, max_attempts, worker_id, lease_expires_at,
// cancel_requested, inputs (object) and result (object or null).
boost::json::object TaskDetailJson(const tasks::TaskDetail& task);

}  // namespace vectorize::http
