#include "tasks/task_service.h"

namespace vectorize::tasks {

Result<std::pair<CancelOutcome, TaskDetail>> TaskService::Cancel(
    const std::string& id, std::optional<std::string> reason) {
  auto outcome = store_.Cancel(id, std::move(reason));
  if (!outcome) return Fail(outcome.error());
  if (*outcome == CancelOutcome::kRequested && engine_) engine_->NotifyCancelRequested(id);
  auto task = store_.Get(id);
  if (!task) return Fail(task.error());
  return std::make_pair(*outcome, std::move(*task));
}

Result<TaskDetail> TaskService::Retry(const std::string& id) {
  auto task = store_.Retry(id, retry_budget_);
  if (task && engine_) engine_->Wake(task->type);
  return task;
}

}  // namespace vectorize::tasks
