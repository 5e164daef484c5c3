#pragma once
// What the API (HTTP routes, later the CLI and the dashboard) does with tasks: the store's
// queries plus the in-process signals to the engine (a cancel reaches a local job at once; a
// retried task wakes the workers). Plain logic, no HTTP types.
// Thread safety: safe from any thread.

#include <optional>
#include <string>
#include <vector>

#include "tasks/engine.h"
#include "tasks/task_store.h"

namespace vectorize::tasks {

class TaskService {
 public:
  // REQUIRES: store and (if given) engine outlive the service. engine may be null on API-only
  // nodes (serve --no-workers).
  TaskService(TaskStore& store, Engine* engine, int retry_attempt_budget)
      : store_(store), engine_(engine), retry_budget_(retry_attempt_budget) {}

  [[nodiscard]] Result<std::vector<TaskRecord>> List(const TaskQuery& query) {
    return store_.List(query, NowMicros());
  }
  [[nodiscard]] Result<TaskDetail> Get(const std::string& id) { return store_.Get(id); }
  [[nodiscard]] Result<std::vector<StatsRow>> Stats(const TaskQuery& query) {
    return store_.Stats(query, NowMicros());
  }
  // Returns the outcome and the task as it is afterwards.
  [[nodiscard]] Result<std::pair<CancelOutcome, TaskDetail>> Cancel(
      const std::string& id, std::optional<std::string> reason);
  [[nodiscard]] Result<TaskDetail> Retry(const std::string& id);
  [[nodiscard]] Result<std::vector<std::pair<TaskType, Micros>>> OldestQueued() {
    return store_.OldestQueued();
  }
  [[nodiscard]] Status Ping() { return store_.Ping(); }

 private:
  TaskStore& store_;
  Engine* engine_;
  int retry_budget_;
};

}  // namespace vectorize::tasks
