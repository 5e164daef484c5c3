#include "tasks/task_events.h"

#include <algorithm>

namespace vectorize::tasks {

TaskEventLog::TaskEventLog(std::size_t capacity, std::uint64_t last_seq)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      last_seq_(last_seq),
      evicted_upto_(last_seq),
      origin_(last_seq) {}

void TaskEventLog::PushLocked(std::uint64_t seq, std::string id) {
  if (entries_.size() >= capacity_) {
    evicted_upto_ = entries_.front().seq;
    entries_.pop_front();
  }
  entries_.push_back({seq, std::move(id)});
  if (first_seq_ == 0) first_seq_ = seq;
  last_seq_ = seq;
}

void TaskEventLog::TasksChanged(std::span<const std::string> ids) {
  if (ids.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : ids) PushLocked(last_seq_ + 1, id);
  }
  cv_.notify_all();
}

void TaskEventLog::AppendNumbered(std::uint64_t first_seq, std::span<const std::string> ids) {
  bool any = false;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::uint64_t seq = first_seq + i;
      if (seq <= last_seq_) continue;
      PushLocked(seq, ids[i]);
      any = true;
    }
  }
  if (any) cv_.notify_all();
}

void TaskEventLog::MarkGap() {
  {
    std::lock_guard lock(mu_);
    PushLocked(last_seq_ + 1, std::string());
  }
  cv_.notify_all();
}

TaskEventLog::Batch TaskEventLog::ReadAfter(std::uint64_t after, std::uint64_t up_to,
                                            std::size_t max) const {
  Batch batch;
  std::lock_guard lock(mu_);
  // With external numbering the first change's number is far above the origin: a position
  // between the two was numbered by others before this log started listening.
  if (after < evicted_upto_ || after > last_seq_ ||
      (after != origin_ && first_seq_ != 0 && after + 1 < first_seq_)) {
    batch.gap = true;
  }
  auto it = std::upper_bound(entries_.begin(), entries_.end(), after,
                             [](std::uint64_t s, const Entry& e) { return s < e.seq; });
  for (; it != entries_.end() && it->seq <= up_to && batch.entries.size() < max; ++it) {
    if (it->task_id.empty()) batch.gap = true;
    batch.entries.push_back(*it);
  }
  return batch;
}

std::uint64_t TaskEventLog::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

void TaskEventLog::WaitAfter(std::uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return last_seq_ > after || interrupted_; });
  interrupted_ = false;
}

void TaskEventLog::Interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

// --- ObservedTaskStore

namespace {

std::vector<std::string> CompletionIds(std::span<const Completion> completions) {
  std::vector<std::string> ids;
  ids.reserve(completions.size());
  for (const auto& c : completions) ids.push_back(c.lease.id);
  return ids;
}

}  // namespace

Result<std::vector<std::string>> ObservedTaskStore::Enqueue(std::span<const NewTask> tasks) {
  auto ids = inner_.Enqueue(tasks);
  if (ids) sink_.TasksChanged(*ids);
  return ids;
}

Status ObservedTaskStore::BulkInsert(std::span<const TaskDetail> tasks) {
  auto s = inner_.BulkInsert(tasks);
  if (s) {
    std::vector<std::string> ids;
    for (const auto& t : tasks) ids.push_back(t.id);
    sink_.TasksChanged(ids);
  }
  return s;
}

Result<CancelOutcome> ObservedTaskStore::Cancel(std::string_view id,
                                                std::optional<std::string> reason) {
  auto r = inner_.Cancel(id, std::move(reason));
  if (r) {
    const std::string one(id);
    sink_.TasksChanged(std::span(&one, 1));
  }
  return r;
}

Result<TaskDetail> ObservedTaskStore::Retry(std::string_view id, int attempt_budget) {
  auto r = inner_.Retry(id, attempt_budget);
  if (r) sink_.TasksChanged(std::span(&r->id, 1));
  return r;
}

Result<std::vector<TaskDetail>> ObservedTaskStore::Claim(TaskType type, int max,
                                                         const std::string& worker_id,
                                                         Micros lease) {
  auto r = inner_.Claim(type, max, worker_id, lease);
  if (r && !r->empty()) {
    std::vector<std::string> ids;
    for (const auto& t : *r) ids.push_back(t.id);
    sink_.TasksChanged(ids);
  }
  return r;
}

Status ObservedTaskStore::ReportProgress(const LeaseRef& run, std::optional<double> progress,
                                         const std::string& message) {
  auto s = inner_.ReportProgress(run, progress, message);
  // A fenced-out write changed nothing; the event then shows the unchanged task, harmlessly.
  if (s) sink_.TasksChanged(std::span(&run.id, 1));
  return s;
}

Status ObservedTaskStore::Complete(std::span<const Completion> completions) {
  auto s = inner_.Complete(completions);
  if (s) sink_.TasksChanged(CompletionIds(completions));
  return s;
}

Result<std::vector<TaskDetail>> ObservedTaskStore::CompleteAndClaim(
    std::span<const Completion> completions, std::span<const ClaimRequest> claims,
    const std::string& worker_id, Micros lease) {
  auto r = inner_.CompleteAndClaim(completions, claims, worker_id, lease);
  if (r) {
    auto ids = CompletionIds(completions);
    for (const auto& t : *r) ids.push_back(t.id);
    sink_.TasksChanged(ids);
  }
  return r;
}

Result<RescueReport> ObservedTaskStore::RescueExpired() {
  auto r = inner_.RescueExpired();
  if (r) sink_.TasksChanged(r->ids);
  return r;
}

}  // namespace vectorize::tasks
