#pragma once
// TaskStore on SQLite (WAL). One writer connection behind a mutex (SQLite allows one writer at
// a time anyway, so the engine batches: claims of many tasks and completions of many runs share
// one transaction), and a small pool of reader connections so GET /tasks never waits for writes.
// Thread safety: all methods may be called from any thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite/connection.h"
#include "tasks/task_store.h"

namespace vectorize::tasks {

class SqliteTaskStore final : public TaskStore {
 public:
  struct Options {
    std::string path;     // database file
    int max_readers = 8;  // reader connections kept open
    bool migrate = true;  // apply pending migrations on open
  };

  // Opens the database, applies migrations if asked. Errors: unavailable (cannot open),
  // internal/failed_precondition from migrations.
  [[nodiscard]] static Result<std::unique_ptr<SqliteTaskStore>> Open(Options options);

  Result<std::vector<std::string>> Enqueue(std::span<const NewTask> tasks) override;
  Status BulkInsert(std::span<const TaskDetail> tasks) override;
  Result<std::vector<TaskRecord>> List(const TaskQuery& query, Micros now) override;
  Result<TaskDetail> Get(std::string_view id) override;
  Result<std::vector<StatsRow>> Stats(const TaskQuery& query, Micros now) override;
  Result<CancelOutcome> Cancel(std::string_view id, std::optional<std::string> reason) override;
  Result<TaskDetail> Retry(std::string_view id, int attempt_budget) override;
  Result<std::vector<TaskDetail>> Claim(TaskType type, int max, const std::string& worker_id,
                                        Micros lease) override;
  Result<std::vector<LeaseRef>> RenewLeases(std::span<const LeaseRef> runs, Micros lease) override;
  Result<std::vector<LeaseRef>> CancelRequested(std::span<const LeaseRef> runs) override;
  Status ReportProgress(const LeaseRef& run, std::optional<double> progress,
                        const std::string& message) override;
  Status Complete(std::span<const Completion> completions) override;
  Result<std::vector<TaskDetail>> CompleteAndClaim(std::span<const Completion> completions,
                                                   std::span<const ClaimRequest> claims,
                                                   const std::string& worker_id,
                                                   Micros lease) override;
  Result<RescueReport> RescueExpired() override;
  Result<std::vector<std::pair<TaskType, Micros>>> OldestQueued() override;
  Status Ping() override;

  // Runs `sql` on a reader connection and returns EXPLAIN QUERY PLAN lines (for tests/bench).
  Result<std::vector<std::string>> ExplainQueryPlan(const storage::SqlStatement& st);

 private:
  explicit SqliteTaskStore(Options options, std::unique_ptr<storage::sqlite::Connection> writer)
      : options_(std::move(options)), writer_(std::move(writer)) {}

  // A reader connection borrowed from the pool for one call.
  class Reader;
  Result<Reader> AcquireReader();
  void ReleaseReader(std::unique_ptr<storage::sqlite::Connection> conn);

  // Runs fn(writer) inside BEGIN IMMEDIATE … COMMIT, rolling back on error.
  template <typename Fn>
  auto WriteTxn(Fn&& fn) -> decltype(fn(std::declval<storage::sqlite::Connection&>()));

  // Finds the table of a task id among the five. Errors: not_found.
  Result<TaskType> LocateTask(storage::sqlite::Connection& conn, const std::string& id);

  Options options_;
  std::mutex write_mu_;
  std::unique_ptr<storage::sqlite::Connection> writer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<storage::sqlite::Connection>> idle_readers_;
};

}  // namespace vectorize::tasks
