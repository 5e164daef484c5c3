#pragma once
// TaskStore: durable task state, the one interface the engine and the routes use. Implemented by
// SqliteTaskStore (embedded default) and, next, PostgresTaskStore. Every state change is a single
// atomic statement or transaction; engine-side writes are fenced by (worker_id, attempts) so a
// worker that lost its lease can never overwrite the task's newer state.
// Thread safety: implementations are safe to call from any number of threads.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "tasks/task.h"
#include "tasks/task_query.h"

namespace vectorize::tasks {

// Identifies one run (attempt) of a task held by one worker.
struct LeaseRef {
  std::string id;
  TaskType type = TaskType::kModelUpload;
  std::string worker_id;
  int attempt = 1;
};

// How a run ended.
struct Completion {
  // kReleased: back to Q with attempts unchanged (graceful shutdown gives the task back).
  enum class Kind { kDone, kFailed, kCancelled, kRetryLater, kReleased };
  LeaseRef lease;
  Kind kind = Kind::kDone;
  std::optional<std::string> error_msg;  // F: why; C: optional reason; retry: the error
  std::optional<std::string> result;     // D: JSON object of links to what it produced
  Micros run_after = 0;                  // kRetryLater/kReleased: not before this time
  // The run's last progress message not yet written (kept on the task, so a D task shows the
  // final "step 15/15" rather than the last throttled one).
  std::optional<std::string> progress_msg;
};

enum class CancelOutcome {
  kCancelled,  // was queued: now C
  kRequested,  // was running: the job will stop at its next safe point
};

struct RescueReport {
  int requeued = 0;
  int failed = 0;                // attempts used up: F "worker lost"
  int cancelled = 0;             // cancel had been requested: C
  std::vector<std::string> ids;  // every task rescued (for change events)
};

struct StatsRow {
  TaskType type;
  TaskStatus status;
  std::int64_t count;
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // --- producers and the API
  // Inserts queued tasks (created_at = now) in one transaction; returns their ids in order.
  // Errors: invalid_argument (tag over 100 chars, inputs not a JSON object).
  [[nodiscard]] virtual Result<std::vector<std::string>> Enqueue(
      std::span<const NewTask> tasks) = 0;
  // Inserts tasks exactly as given (ids, states, timestamps): imports, tests, benchmarks.
  [[nodiscard]] virtual Status BulkInsert(std::span<const TaskDetail> tasks) = 0;
  [[nodiscard]] virtual Result<std::vector<TaskRecord>> List(const TaskQuery& query,
                                                             Micros now) = 0;
  // Errors: not_found.
  [[nodiscard]] virtual Result<TaskDetail> Get(std::string_view id) = 0;
  // Counts per type and status of what List(query, now) would return without limit/offset.
  [[nodiscard]] virtual Result<std::vector<StatsRow>> Stats(const TaskQuery& query, Micros now) = 0;
  // Q → C at once; R → cancel requested. Errors: not_found; failed_precondition when D/F/C.
  [[nodiscard]] virtual Result<CancelOutcome> Cancel(std::string_view id,
                                                     std::optional<std::string> reason) = 0;
  // F/C → Q with attempts + 1 and a fresh budget of `attempt_budget` runs.
  // Errors: not_found; failed_precondition unless F or C.
  [[nodiscard]] virtual Result<TaskDetail> Retry(std::string_view id, int attempt_budget) = 0;

  // --- the engine
  // Atomically moves up to `max` queued tasks of `type` whose run_after has come, oldest first,
  // to R, held by `worker_id` until now + lease.
  [[nodiscard]] virtual Result<std::vector<TaskDetail>> Claim(TaskType type, int max,
                                                              const std::string& worker_id,
                                                              Micros lease) = 0;
  // Extends leases to now + lease. Returns the runs whose lease is gone (rescued, cancelled,
  // finished elsewhere): their jobs must stop and their results will be ignored.
  [[nodiscard]] virtual Result<std::vector<LeaseRef>> RenewLeases(std::span<const LeaseRef> runs,
                                                                  Micros lease) = 0;
  // Of the given runs, those whose task has a cancel request.
  [[nodiscard]] virtual Result<std::vector<LeaseRef>> CancelRequested(
      std::span<const LeaseRef> runs) = 0;
  // Fenced; a run that lost its lease is silently ignored.
  [[nodiscard]] virtual Status ReportProgress(const LeaseRef& run, std::optional<double> progress,
                                              const std::string& message) = 0;
  // Records many run outcomes in one transaction (group commit). Fenced per run.
  [[nodiscard]] virtual Status Complete(std::span<const Completion> completions) = 0;
  // Records outcomes and, in the same transaction, claims tasks for the slots they freed (as
  // Claim does, per request): one commit instead of two for every finished batch.
  struct ClaimRequest {
    TaskType type;
    int max;
  };
  [[nodiscard]] virtual Result<std::vector<TaskDetail>> CompleteAndClaim(
      std::span<const Completion> completions, std::span<const ClaimRequest> claims,
      const std::string& worker_id, Micros lease) = 0;
  // Expired leases: back to Q (attempts + 1), or F "worker lost" once attempts are used up, or
  // C when a cancel had been requested.
  [[nodiscard]] virtual Result<RescueReport> RescueExpired() = 0;
  // Per type, created_at of the oldest queued task (types with none queued are absent), for the
  // queue-age gauge of /metrics.
  [[nodiscard]] virtual Result<std::vector<std::pair<TaskType, Micros>>> OldestQueued() = 0;
  // A trivial round trip to the database (GET /health). Errors: unavailable.
  [[nodiscard]] virtual Status Ping() = 0;
};

}  // namespace vectorize::tasks
