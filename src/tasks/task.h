#pragma once
// The task record shared by every task type (SPEC §2.1), its types and states.
// State machine (drawn in docs/tasks.md):
//   Q ──claim──▶ R ──ok──▶ D
//   Q ──cancel─▶ C        R ──permanent error / attempts used up──▶ F
//   R ──cancel requested, job stops──▶ C      R ──retryable error / lease lost──▶ Q (attempts+1)
//   F, C ──retry──▶ Q (attempts+1)
// Value types; no thread-safety concerns.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace vectorize::tasks {

enum class TaskType { kModelUpload, kDatasetUpload, kTraining, kEvaluation, kSynthesis };
inline constexpr std::array<TaskType, 5> kAllTaskTypes = {
    TaskType::kModelUpload, TaskType::kDatasetUpload, TaskType::kTraining, TaskType::kEvaluation,
    TaskType::kSynthesis};

enum class TaskStatus { kQueued, kRunning, kDone, kFailed, kCancelled };
inline constexpr std::array<TaskStatus, 5> kAllTaskStatuses = {
    TaskStatus::kQueued, TaskStatus::kRunning, TaskStatus::kDone, TaskStatus::kFailed,
    TaskStatus::kCancelled};

// "model_upload", "dataset_upload", "training", "evaluation", "synthesis".
std::string_view TaskTypeName(TaskType type);
std::optional<TaskType> ParseTaskType(std::string_view name);
// The table holding tasks of this type: "<name>_task".
std::string_view TaskTable(TaskType type);

// 'Q', 'R', 'D', 'F', 'C'.
char TaskStatusCode(TaskStatus status);
std::optional<TaskStatus> ParseTaskStatus(std::string_view code);
std::string_view TaskStatusName(TaskStatus status);  // "QUEUED", "RUNNING", ...
inline bool IsTerminal(TaskStatus s) {
  return s == TaskStatus::kDone || s == TaskStatus::kFailed || s == TaskStatus::kCancelled;
}

// What GET /tasks returns for each task.
struct TaskRecord {
  std::string id;
  TaskType type = TaskType::kModelUpload;
  TaskStatus status = TaskStatus::kQueued;
  std::optional<std::string> tag;
  Micros created_at = 0;
  std::optional<Micros> end_date;
  std::optional<std::string> error_msg;
  std::optional<double> progress;
  std::optional<std::string> progress_msg;
};

// GET /tasks/{id}: the record plus the engine's bookkeeping and the task's inputs and results.
struct TaskDetail : TaskRecord {
  std::optional<Micros> started_at;
  Micros updated_at = 0;
  int attempts = 1;
  int max_attempts = 3;
  Micros run_after = 0;
  std::optional<std::string> worker_id;
  std::optional<Micros> lease_expires_at;
  bool cancel_requested = false;
  std::string inputs = "{}";          // JSON object, sanitised (no secrets)
  std::optional<std::string> result;  // JSON object: links to what it produced
};

// A task to enqueue. inputs must be a JSON object without secrets.
struct NewTask {
  TaskType type = TaskType::kModelUpload;
  std::optional<std::string> tag;
  std::string inputs = "{}";
  int max_attempts = 3;
  // Empty = a new UUIDv7 is assigned. Set it to know the id before the insert commits.
  std::string id;
};

}  // namespace vectorize::tasks
