#include "tasks/task.h"

namespace vectorize::tasks {

std::string_view TaskTypeName(TaskType type) {
  switch (type) {
    case TaskType::kModelUpload: return "model_upload";
    case TaskType::kDatasetUpload: return "dataset_upload";
    case TaskType::kTraining: return "training";
    case TaskType::kEvaluation: return "evaluation";
    case TaskType::kSynthesis: return "synthesis";
  }
  return "model_upload";
}

std::optional<TaskType> ParseTaskType(std::string_view name) {
  for (TaskType t : kAllTaskTypes) {
    if (TaskTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view TaskTable(TaskType type) {
  switch (type) {
    case TaskType::kModelUpload: return "model_upload_task";
    case TaskType::kDatasetUpload: return "dataset_upload_task";
    case TaskType::kTraining: return "training_task";
    case TaskType::kEvaluation: return "evaluation_task";
    case TaskType::kSynthesis: return "synthesis_task";
  }
  return "model_upload_task";
}

char TaskStatusCode(TaskStatus status) {
  switch (status) {
    case TaskStatus::kQueued: return 'Q';
    case TaskStatus::kRunning: return 'R';
    case TaskStatus::kDone: return 'D';
    case TaskStatus::kFailed: return 'F';
    case TaskStatus::kCancelled: return 'C';
  }
  return 'Q';
}

std::optional<TaskStatus> ParseTaskStatus(std::string_view code) {
  if (code.size() != 1) return std::nullopt;
  for (TaskStatus s : kAllTaskStatuses) {
    if (TaskStatusCode(s) == code[0]) return s;
  }
  return std::nullopt;
}

std::string_view TaskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kQueued: return "QUEUED";
    case TaskStatus::kRunning: return "RUNNING";
    case TaskStatus::kDone: return "DONE";
    case TaskStatus::kFailed: return "FAILED";
    case TaskStatus::kCancelled: return "CANCELLED";
  }
  return "QUEUED";
}

}  // namespace vectorize::tasks
