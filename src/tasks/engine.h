#pragma once
// The task engine (SPEC §2.4): per-type worker pools with concurrency limits, atomic claims,
// leases renewed by heartbeat, a rescuer for expired leases, retries with exponential backoff and
// jitter, cooperative cancellation, progress reporting and graceful shutdown.
// The engine knows nothing of datasets or models: a module implements Job for its task type and
// registers it. Semantics are drawn in docs/tasks.md.
// Thread safety: Register before Start; every other method may be called from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "tasks/task_store.h"

namespace vectorize::tasks {

class Engine;

// What a running job sees. Lives for one run; used only by the job's thread.
class JobContext {
 public:
  const TaskDetail& task() const { return task_; }
  // True once the user asked to cancel, the lease was lost, or the engine is shutting down.
  // Jobs check it at safe points and then return Error::Cancelled after cleaning up.
  bool IsCancelled() const { return stop_->load(std::memory_order_relaxed) != StopReason::kNone; }
  // Convenience: Error::Cancelled when IsCancelled(), else ok.
  [[nodiscard]] Status CheckCancelled() const;
  // fraction in [0, 1] or nullopt when unknown; message like "epoch 2/3, step 40/120".
  // Writes are coalesced (at most one per ~200 ms per run; the latest value always lands).
  void ReportProgress(std::optional<double> fraction, std::string message);
  // JSON object recorded on the task when it ends D (links to what it produced).
  void SetResult(std::string json) { result_ = std::move(json); }

  enum class StopReason : int { kNone = 0, kCancelRequested, kLeaseLost, kShutdown };

 private:
  friend class Engine;
  JobContext(Engine* engine, TaskDetail task, std::atomic<StopReason>* stop)
      : engine_(engine), task_(std::move(task)), stop_(stop) {}
  Engine* engine_;
  TaskDetail task_;
  std::atomic<StopReason>* stop_;
  std::optional<std::string> result_;
};

// One kind of work. Run performs one attempt of one task:
//   ok → D · Error::Cancelled (after a cancel request) → C · a retryable error (unavailable,
//   deadline_exceeded) → queued again after a backoff while attempts remain, else F ·
//   any other error → F with its message. Exceptions are caught and count as internal errors.
class Job {
 public:
  virtual ~Job() = default;
  [[nodiscard]] virtual Status Run(JobContext& ctx) = 0;
};

struct EngineOptions {
  std::string worker_id;                // unique per process; generated when empty
  std::map<TaskType, int> concurrency;  // types absent or 0 are not run here
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds heartbeat{10'000};
  std::chrono::milliseconds rescue_interval{5'000};
  std::chrono::milliseconds retry_base{2'000};  // backoff: base × 2^(attempt-1), jittered
  std::chrono::milliseconds retry_max{300'000};
  std::chrono::milliseconds cancel_poll{200};   // how often cancel requests are looked up
  std::chrono::milliseconds cancel_grace{600};  // then a run that ignores them is ended C
  std::chrono::milliseconds idle_poll{1'000};   // fallback look for work from other processes
  std::chrono::milliseconds shutdown_grace{10'000};
  int max_attempts = 3;  // default attempt budget for manual retries
  bool run_rescuer = true;
};

// Bucket upper bounds (seconds) of the run-duration histograms: 1 ms to 6 h.
inline constexpr std::array<double, 14> kRunDurationBounds = {
    0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 10800, 21600};

// How long job runs took in this process, per task type (Prometheus histogram shape).
struct RunDurations {
  std::array<std::uint64_t, kRunDurationBounds.size()> buckets{};  // cumulative counts
  std::uint64_t count = 0;
  double sum_seconds = 0;
};

struct EngineCounters {
  std::uint64_t claimed = 0, done = 0, failed = 0, cancelled = 0, retried = 0, released = 0;
  std::uint64_t rescued_requeued = 0, rescued_failed = 0, rescued_cancelled = 0;
  std::map<TaskType, RunDurations> run_durations;
};

class Engine {
 public:
  // REQUIRES: store outlives the engine.
  Engine(TaskStore& store, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // REQUIRES: before Start.
  void Register(TaskType type, std::shared_ptr<Job> job);
  void Start();
  // Stops claiming, asks running jobs to stop, waits up to shutdown_grace, puts unfinished runs
  // back to Q (lease released, attempts unchanged), flushes outcomes. Idempotent.
  void Stop();

  // New work of this type may be waiting (in-process signal; no polling needed).
  void Wake(TaskType type);
  // Enqueue through the store, then wake the workers.
  [[nodiscard]] Result<std::vector<std::string>> Enqueue(std::span<const NewTask> tasks);
  // A cancel was recorded for this task: if it runs here, its token fires now.
  void NotifyCancelRequested(const std::string& task_id);

  const std::string& worker_id() const { return options_.worker_id; }
  EngineCounters counters() const;
  // Runs currently executing here, per type.
  std::map<TaskType, int> RunningCounts() const;

 private:
  friend class JobContext;
  struct Run {
    LeaseRef lease;
    std::atomic<JobContext::StopReason> stop{JobContext::StopReason::kNone};
    std::chrono::steady_clock::time_point stop_at{};
    std::atomic<bool> force_ended{false};  // ended C by the engine after cancel_grace
    std::mutex progress_mu;                // guards pending_progress and last_progress_write
    std::mutex flush_mu;                   // held while a progress write is in flight
    std::optional<std::pair<std::optional<double>, std::string>> pending_progress;
    std::chrono::steady_clock::time_point last_progress_write{};
  };
  struct Pool {
    TaskType type;
    int concurrency = 0;
    std::shared_ptr<Job> job;
    std::mutex mu;
    std::condition_variable cv;  // dispatcher: work or slots; workers: runnable tasks
    std::condition_variable worker_cv;
    std::deque<TaskDetail> ready;  // claimed, waiting for a worker thread
    int busy = 0;                  // slots taken: reserved for a claim, queued or running
    bool maybe_more = true;        // the queue may hold claimable tasks
    std::optional<std::chrono::system_clock::time_point> next_due;  // earliest backoff expiry
    std::thread dispatcher;
    std::vector<std::thread> workers;
  };

  void DispatchLoop(Pool& pool);
  void WorkLoop(Pool& pool);
  void MonitorLoop();
  void CompleteLoop();
  // Runs one claimed task; returns its outcome, or nothing when the monitor already ended it.
  std::optional<Completion> ExecuteRun(Pool& pool, TaskDetail task);
  // Takes free slots of `pool` for a claim (0 when none are free or nothing may be queued).
  // REQUIRES: pool.mu held.
  int ReserveSlots(Pool& pool);
  // Hands claimed tasks to the workers and gives back the reserved slots not used. While the
  // engine stops, claimed tasks are released instead. REQUIRES: pool.mu not held.
  void AdoptClaimed(Pool& pool, std::vector<TaskDetail> tasks, int reserved);
  Completion DecideOutcome(const TaskDetail& task, Run& run, const Status& status,
                           std::optional<std::string> result);
  // Queues an outcome for the completer. holds_slot: the run still occupies its pool slot, which
  // is freed only when the outcome is committed (so R never exceeds the concurrency limit).
  void SubmitCompletion(Completion c, bool holds_slot = false);
  void FlushProgress(Run& run, bool force);
  std::chrono::milliseconds Backoff(int attempt);

  TaskStore& store_;
  EngineOptions options_;
  std::map<TaskType, std::unique_ptr<Pool>> pools_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;

  mutable std::mutex runs_mu_;
  std::map<std::string, std::shared_ptr<Run>> runs_;  // by task id

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  struct Outcome {
    Completion completion;
    bool holds_slot = false;
  };
  std::vector<Outcome> done_;
  bool completer_poked_ = false;  // a slot freed without an outcome to write
  bool completer_exit_ = false;
  std::thread completer_;

  std::mutex monitor_mu_;
  std::condition_variable monitor_cv_;
  std::thread monitor_;

  mutable std::mutex counters_mu_;
  EngineCounters counters_;
};

}  // namespace vectorize::tasks
