#pragma once
// Task change events, the source of GET /tasks/events (SPEC §2.3; design in docs/tasks.md
// "Events"). Three pieces:
//  - TaskChangeSink: where writers report which tasks changed (ids only, after the commit).
//  - TaskEventLog: a bounded, numbered log of recent changes that event streams read, replay
//    from (Last-Event-ID) and wait on. On SQLite it is itself the sink and numbers changes
//    locally, starting from the process's start time in microseconds, so ids keep increasing
//    across restarts. On PostgreSQL every process forwards its changes through NOTIFY
//    (PgEventForwarder) with database-assigned numbers, and every API node's log is fed from
//    LISTEN, so all nodes number the same change alike and a client can resume on any of them.
//  - ObservedTaskStore: a TaskStore decorator that reports every committed write to a sink, so
//    the engine, the API and the producers of tasks need not know about events.
// Thread safety: all classes are safe to use from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "tasks/task_store.h"

namespace vectorize::tasks {

class TaskChangeSink {
 public:
  virtual ~TaskChangeSink() = default;
  // These tasks changed (state, progress, anything GET /tasks/{id} shows). Called after the
  // change committed, possibly on the engine's hot path: must not block on I/O.
  virtual void TasksChanged(std::span<const std::string> ids) = 0;
};

class TaskEventLog final : public TaskChangeSink {
 public:
  struct Entry {
    std::uint64_t seq = 0;
    std::string task_id;  // empty: a gap marker (changes may have been missed here)
  };
  struct Batch {
    std::vector<Entry> entries;  // seq ascending
    // The log cannot show every change after the position asked for (evicted, a gap marker, or
    // a position this log never numbered): a client there must reload its view.
    bool gap = false;
  };

  // capacity: entries kept for replay. last_seq: the number before the first change.
  TaskEventLog(std::size_t capacity, std::uint64_t last_seq);

  // Local numbering: each id gets the next number.
  void TasksChanged(std::span<const std::string> ids) override;
  // Numbering assigned elsewhere (the PostgreSQL feed): ids get first_seq, first_seq + 1, ….
  // Numbers not above last_seq() are ignored (the feed is delivered in order).
  void AppendNumbered(std::uint64_t first_seq, std::span<const std::string> ids);
  // Changes may have been lost (the feed reconnected): readers positioned before this point get
  // Batch::gap when they read past it.
  void MarkGap();

  // Entries with seq in (after, up_to], at most `max` (the oldest first).
  [[nodiscard]] Batch ReadAfter(std::uint64_t after, std::uint64_t up_to, std::size_t max) const;
  [[nodiscard]] std::uint64_t last_seq() const;
  // Blocks until last_seq() > after, Interrupt() is called, or the timeout passes.
  void WaitAfter(std::uint64_t after, std::chrono::milliseconds timeout);
  void Interrupt();

 private:
  void PushLocked(std::uint64_t seq, std::string id);

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> entries_;
  std::uint64_t last_seq_;
  std::uint64_t evicted_upto_;   // changes up to this number are no longer (or never were) here
  const std::uint64_t origin_;   // the constructor's last_seq
  std::uint64_t first_seq_ = 0;  // of the first change appended; 0 before
  bool interrupted_ = false;
};

// Passes every call to `inner` and reports the tasks each successful write touched to `sink`.
class ObservedTaskStore final : public TaskStore {
 public:
  // REQUIRES: inner and sink outlive this store.
  ObservedTaskStore(TaskStore& inner, TaskChangeSink& sink) : inner_(inner), sink_(sink) {}

  Result<std::vector<std::string>> Enqueue(std::span<const NewTask> tasks) override;
  Status BulkInsert(std::span<const TaskDetail> tasks) override;
  Result<std::vector<TaskRecord>> List(const TaskQuery& query, Micros now) override {
    return inner_.List(query, now);
  }
  Result<TaskDetail> Get(std::string_view id) override { return inner_.Get(id); }
  Result<std::vector<StatsRow>> Stats(const TaskQuery& query, Micros now) override {
    return inner_.Stats(query, now);
  }
  Result<CancelOutcome> Cancel(std::string_view id, std::optional<std::string> reason) override;
  Result<TaskDetail> Retry(std::string_view id, int attempt_budget) override;
  Result<std::vector<TaskDetail>> Claim(TaskType type, int max, const std::string& worker_id,
                                        Micros lease) override;
  Result<std::vector<LeaseRef>> RenewLeases(std::span<const LeaseRef> runs, Micros lease) override {
    return inner_.RenewLeases(runs, lease);
  }
  Result<std::vector<LeaseRef>> CancelRequested(std::span<const LeaseRef> runs) override {
    return inner_.CancelRequested(runs);
  }
  Status ReportProgress(const LeaseRef& run, std::optional<double> progress,
                        const std::string& message) override;
  Status Complete(std::span<const Completion> completions) override;
  Result<std::vector<TaskDetail>> CompleteAndClaim(std::span<const Completion> completions,
                                                   std::span<const ClaimRequest> claims,
                                                   const std::string& worker_id,
                                                   Micros lease) override;
  Result<RescueReport> RescueExpired() override;
  Result<std::vector<std::pair<TaskType, Micros>>> OldestQueued() override {
    return inner_.OldestQueued();
  }
  Status Ping() override { return inner_.Ping(); }

 private:
  TaskStore& inner_;
  TaskChangeSink& sink_;
};

}  // namespace vectorize::tasks
