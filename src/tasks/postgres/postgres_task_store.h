#pragma once
// TaskStore on PostgreSQL (libpq), for any number of processes on any number of machines sharing
// one database. Same semantics, statements and fencing as SqliteTaskStore; what differs:
//  - a bounded pool of connections instead of one writer plus readers: writes run concurrently,
//    each in its own READ COMMITTED transaction;
//  - claims lock the rows they take with FOR UPDATE SKIP LOCKED, so concurrent claimers (threads
//    or processes) never take the same task and never wait for each other;
//  - whenever tasks become claimable (Enqueue, Retry, a requeue or release in Complete, a rescue)
//    the transaction sends NOTIFY vectorize_tasks, '<task type>' so engines in other processes
//    can wake at once (kNotifyChannel), and a cancel requested for a running task sends NOTIFY
//    vectorize_cancel, '<task id>' (kCancelChannel); the LISTEN side is PgListener;
//  - a connection that broke (server restart, network) is reset and the call retried once when
//    that is safe (reads, and transactions that never reached COMMIT); deadlocks and
//    serialization failures (aborted) retry the transaction up to three times.
// Thread safety: all methods may be called from any thread.

#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/connection.h"
#include "tasks/task_store.h"

namespace vectorize::tasks {

class PostgresTaskStore final : public TaskStore {
 public:
  // The channel of the wake-up notifications; the payload is the task type's name.
  static constexpr std::string_view kNotifyChannel = "vectorize_tasks";
  // The channel of cancel requests for running tasks (sent in Cancel's transaction); the payload
  // is the task id.
  static constexpr std::string_view kCancelChannel = "vectorize_cancel";

  struct Options {
    std::string url;    // postgresql://user:pass@host:port/db (libpq URI or conninfo)
    int pool_size = 8;  // connections kept open at most
    int connect_timeout_s = 5;
    int acquire_timeout_ms = 5000;  // waiting for a free connection → unavailable
    bool migrate = true;            // apply pending migrations on open
  };

  // Connects (failing fast with unavailable and the reason, password redacted, when the server
  // cannot be reached), applies migrations if asked or checks the schema version.
  [[nodiscard]] static Result<std::unique_ptr<PostgresTaskStore>> Open(Options options);

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

  // EXPLAIN of a statement (one line per plan node), for tests and benchmarks.
  Result<std::vector<std::string>> ExplainQueryPlan(const storage::SqlStatement& st);

  storage::postgres::Pool& pool() { return *pool_; }

 private:
  PostgresTaskStore(std::unique_ptr<storage::postgres::Pool> pool,
                    std::unique_ptr<storage::postgres::Pool> page_pool)
      : pool_(std::move(pool)), page_pool_(std::move(page_pool)) {}

  // Runs fn(conn) inside BEGIN … COMMIT on a pooled connection, rolling back on error; retried
  // as described above.
  template <typename Fn>
  auto WriteTxn(Fn&& fn) -> decltype(fn(std::declval<storage::postgres::Connection&>()));

  std::unique_ptr<storage::postgres::Pool> pool_;
  // Paginated /tasks pages (a LIMIT, so every arm is capped): prepared once per query shape and
  // run with a generic plan. Planning the ~20 arms for each request cost 1–5 ms; the generic plan
  // is as good (the arms are ordered index scans whatever the values), 0.02 ms to reuse.
  // Unpaginated lists stay on pool_ with custom plans: there a generic plan cannot see how
  // little of the index the window holds (104 ms instead of 20 at 1M).
  std::unique_ptr<storage::postgres::Pool> page_pool_;
};

}  // namespace vectorize::tasks
