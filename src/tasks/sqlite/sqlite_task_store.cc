#include "tasks/sqlite/sqlite_task_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "common/uuid.h"
#include "storage/migrations.h"
#include "tasks/task_columns.h"

namespace vectorize::tasks {

using storage::sqlite::Connection;
using storage::sqlite::Statement;
using storage::sqlite::ToSqlitePlaceholders;
using storage::sqlite::Value;

namespace {

constexpr std::string_view kDetailColumns = columns::kDetail;

// Statements per table; {0} is the table name.
constexpr std::string_view kInsert =
    "INSERT INTO {0} (id, task_status, tag, created_at, started_at, updated_at, end_date, "
    "error_msg, progress, progress_msg, attempts, max_attempts, run_after, worker_id, "
    "lease_expires_at, cancel_requested, inputs, result) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
constexpr std::string_view kSelectById = "SELECT {1} FROM {0} WHERE id = ?1";
constexpr std::string_view kExists = "SELECT 1 FROM {0} WHERE id = ?1";
constexpr std::string_view kClaim =
    "UPDATE {0} SET task_status = 'R', worker_id = ?1, started_at = ?2, updated_at = ?2, "
    "lease_expires_at = ?3, progress = NULL, progress_msg = NULL "
    "WHERE id IN (SELECT id FROM {0} WHERE task_status = 'Q' AND run_after <= ?2 "
    "ORDER BY created_at, id LIMIT ?4) RETURNING {1}";
constexpr std::string_view kRenew =
    "UPDATE {0} SET lease_expires_at = ?1 "
    "WHERE id = ?2 AND task_status = 'R' AND worker_id = ?3 AND attempts = ?4";
constexpr std::string_view kCancelRequested =
    "SELECT cancel_requested FROM {0} "
    "WHERE id = ?1 AND task_status = 'R' AND worker_id = ?2 AND attempts = ?3";
constexpr std::string_view kProgress =
    "UPDATE {0} SET progress = ?1, progress_msg = ?2, updated_at = ?3 "
    "WHERE id = ?4 AND task_status = 'R' AND worker_id = ?5 AND attempts = ?6";
constexpr std::string_view kFinish =
    "UPDATE {0} SET task_status = ?1, end_date = ?2, updated_at = ?2, "
    // A cancelled task keeps the reason given with its cancel request, if any.
    "error_msg = CASE WHEN ?1 = 'C' THEN coalesce(error_msg, ?3) ELSE ?3 END, "
    "result = coalesce(?4, result), progress = CASE WHEN ?1 = 'D' THEN 1.0 ELSE progress END, "
    "progress_msg = coalesce(?8, progress_msg), worker_id = NULL, lease_expires_at = NULL "
    "WHERE id = ?5 AND task_status = 'R' AND worker_id = ?6 AND attempts = ?7";
constexpr std::string_view kRequeue =
    "UPDATE {0} SET task_status = 'Q', attempts = attempts + 1, run_after = ?1, updated_at = ?2, "
    "progress = NULL, progress_msg = ?3, worker_id = NULL, lease_expires_at = NULL "
    "WHERE id = ?4 AND task_status = 'R' AND worker_id = ?5 AND attempts = ?6";
constexpr std::string_view kRelease =
    "UPDATE {0} SET task_status = 'Q', run_after = ?1, updated_at = ?2, "
    "progress_msg = 'released by a stopping worker', worker_id = NULL, lease_expires_at = NULL "
    "WHERE id = ?3 AND task_status = 'R' AND worker_id = ?4 AND attempts = ?5";
constexpr std::string_view kRescue =
    "UPDATE {0} SET "
    "task_status = CASE WHEN cancel_requested = 1 THEN 'C' "
    "  WHEN attempts >= max_attempts THEN 'F' ELSE 'Q' END, "
    "end_date = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN ?1 END, "
    "error_msg = CASE WHEN cancel_requested = 1 THEN coalesce(error_msg, 'cancelled (worker "
    "lost)') "
    "  WHEN attempts >= max_attempts THEN 'worker lost' END, "
    "progress_msg = CASE WHEN cancel_requested = 0 AND attempts < max_attempts "
    "  THEN 'requeued: worker lost' ELSE progress_msg END, "
    "attempts = CASE WHEN cancel_requested = 0 AND attempts < max_attempts "
    "  THEN attempts + 1 ELSE attempts END, "
    "run_after = ?1, updated_at = ?1, worker_id = NULL, lease_expires_at = NULL "
    "WHERE task_status = 'R' AND lease_expires_at < ?1 RETURNING task_status, id";
constexpr std::string_view kCancelQueued =
    "UPDATE {0} SET task_status = 'C', end_date = ?1, updated_at = ?1, error_msg = ?2 "
    "WHERE id = ?3 AND task_status = 'Q'";
constexpr std::string_view kRequestCancel =
    "UPDATE {0} SET cancel_requested = 1, updated_at = ?1, error_msg = coalesce(?2, error_msg) "
    "WHERE id = ?3 AND task_status = 'R'";
constexpr std::string_view kRetry =
    "UPDATE {0} SET task_status = 'Q', attempts = attempts + 1, max_attempts = attempts + ?1, "
    "end_date = NULL, error_msg = NULL, progress = NULL, progress_msg = NULL, "
    "cancel_requested = 0, started_at = NULL, run_after = ?2, updated_at = ?2 "
    "WHERE id = ?3 AND task_status IN ('F', 'C')";

// The statement text for one table, formatted once per thread: the engine's hot paths run
// these per task.
const std::string& Sql(std::string_view tmpl, TaskType type) {
  struct KeyHash {
    size_t operator()(const std::pair<const char*, int>& k) const {
      return std::hash<const void*>()(k.first) ^ static_cast<size_t>(k.second);
    }
  };
  thread_local std::unordered_map<std::pair<const char*, int>, std::string, KeyHash> cache;
  auto [it, inserted] = cache.try_emplace({tmpl.data(), static_cast<int>(type)});
  if (inserted) it->second = fmt::format(fmt::runtime(tmpl), TaskTable(type), kDetailColumns);
  return it->second;
}

Value Opt(const std::optional<std::string>& v) { return v ? Value(*v) : Value(std::monostate{}); }
Value Opt(const std::optional<Micros>& v) {
  return v ? Value(std::int64_t{*v}) : Value(std::monostate{});
}
Value Opt(const std::optional<double>& v) { return v ? Value(*v) : Value(std::monostate{}); }

void ReadRecordColumns(const Statement& s, int first, TaskRecord& r) {
  columns::ReadRecord(s, first, r);
}
TaskDetail ReadDetail(const Statement& s, TaskType type) { return columns::ReadDetail(s, type); }
using columns::CheckNewTask;

Status RunStatement(Connection& conn, const std::string& sql, const std::vector<Value>& params,
                    int* changes = nullptr) {
  auto st = conn.Prepare(sql);
  if (!st) return Fail(st.error());
  if (auto b = (*st)->BindAll(params); !b) return b;
  auto r = (*st)->Run();
  if (!r) return Fail(r.error());
  if (changes) *changes = *r;
  return {};
}

}  // namespace

// A pooled reader connection, returned to the pool on destruction.
class SqliteTaskStore::Reader {
 public:
  Reader(SqliteTaskStore* store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  Reader(Reader&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
  ~Reader() {
    if (conn_) store_->ReleaseReader(std::move(conn_));
  }
  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_.get(); }

 private:
  SqliteTaskStore* store_;
  std::unique_ptr<Connection> conn_;
};

Result<std::unique_ptr<SqliteTaskStore>> SqliteTaskStore::Open(Options options) {
  auto writer = Connection::Open(options.path);
  if (!writer) return Fail(writer.error());
  if (options.migrate) {
    if (auto s = storage::MigrateSqlite(**writer); !s) return Fail(s.error());
  } else {
    auto v = storage::SqliteSchemaVersion(**writer);
    if (!v) return Fail(v.error());
    if (*v < storage::SqliteMigrations().back().version) {
      return Fail(Error::FailedPrecondition(
          "database schema is at version " + std::to_string(*v) + ", this binary needs " +
          std::to_string(storage::SqliteMigrations().back().version) +
          ": run `vectorize migrate`"));
    }
  }
  return std::unique_ptr<SqliteTaskStore>(
      new SqliteTaskStore(std::move(options), std::move(*writer)));
}

Result<SqliteTaskStore::Reader> SqliteTaskStore::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(conn));
    }
  }
  auto conn = Connection::Open(options_.path);
  if (!conn) return Fail(conn.error());
  return Reader(this, std::move(*conn));
}

void SqliteTaskStore::ReleaseReader(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(pool_mu_);
  if (static_cast<int>(idle_readers_.size()) < options_.max_readers) {
    idle_readers_.push_back(std::move(conn));
  }
}

template <typename Fn>
auto SqliteTaskStore::WriteTxn(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  std::lock_guard lock(write_mu_);
  if (auto s = writer_->Begin(); !s) return Fail(s.error());
  auto result = fn(*writer_);
  if (!result) {
    writer_->Rollback();
    return result;
  }
  if (auto s = writer_->Commit(); !s) {
    writer_->Rollback();
    return Fail(s.error());
  }
  return result;
}

Result<TaskType> SqliteTaskStore::LocateTask(Connection& conn, const std::string& id) {
  for (TaskType type : kAllTaskTypes) {
    auto st = conn.Prepare(Sql(kExists, type));
    if (!st) return Fail(st.error());
    if (auto b = (*st)->BindAll({id}); !b) return Fail(b.error());
    auto row = (*st)->Step();
    (*st)->Reset();
    if (!row) return Fail(row.error());
    if (*row) return type;
  }
  return Fail(Error::NotFound("Task with ID " + id + " not found"));
}

Result<std::vector<std::string>> SqliteTaskStore::Enqueue(std::span<const NewTask> tasks) {
  for (const NewTask& t : tasks) {
    if (auto s = CheckNewTask(t); !s) return Fail(s.error());
  }
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    ids.reserve(tasks.size());
    for (const NewTask& t : tasks) {
      std::string id = t.id.empty() ? NewUuidV7() : t.id;
      if (auto s =
              RunStatement(conn, Sql(kInsert, t.type),
                           {id, std::string("Q"), Opt(t.tag), now, std::monostate{}, now,
                            std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
                            std::int64_t{1}, std::int64_t{t.max_attempts}, now, std::monostate{},
                            std::monostate{}, std::int64_t{0}, t.inputs, std::monostate{}});
          !s) {
        return Fail(s.error());
      }
      ids.push_back(std::move(id));
    }
    return ids;
  });
}

Status SqliteTaskStore::BulkInsert(std::span<const TaskDetail> tasks) {
  return WriteTxn([&](Connection& conn) -> Status {
    for (const TaskDetail& t : tasks) {
      if (auto s = RunStatement(
              conn, Sql(kInsert, t.type),
              {t.id, std::string(1, TaskStatusCode(t.status)), Opt(t.tag), t.created_at,
               Opt(t.started_at), t.updated_at, Opt(t.end_date), Opt(t.error_msg), Opt(t.progress),
               Opt(t.progress_msg), std::int64_t{t.attempts}, std::int64_t{t.max_attempts},
               t.run_after, Opt(t.worker_id), Opt(t.lease_expires_at),
               std::int64_t{t.cancel_requested ? 1 : 0}, t.inputs, Opt(t.result)});
          !s) {
        return s;
      }
    }
    return {};
  });
}

Result<std::vector<TaskRecord>> SqliteTaskStore::List(const TaskQuery& query, Micros now) {
  storage::SqlStatement st = BuildListStatement(query, now, storage::Dialect::kSqlite);
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  auto stmt = (*reader)->Prepare(ToSqlitePlaceholders(st.sql));
  if (!stmt) return Fail(stmt.error());
  if (auto b = (*stmt)->BindAll(st.params); !b) return Fail(b.error());
  std::vector<TaskRecord> out;
  if (query.limit) out.reserve(static_cast<size_t>(*query.limit));
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) {
      (*stmt)->Reset();
      return Fail(row.error());
    }
    if (!*row) break;
    const Statement& s = **stmt;
    TaskRecord r;
    r.id = s.Text(0);
    r.type = ParseTaskType(s.Text(1)).value_or(TaskType::kModelUpload);
    ReadRecordColumns(s, 2, r);
    out.push_back(std::move(r));
  }
  (*stmt)->Reset();
  return out;
}

Result<TaskDetail> SqliteTaskStore::Get(std::string_view id_view) {
  const std::string id(id_view);
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  for (TaskType type : kAllTaskTypes) {
    auto st = (*reader)->Prepare(Sql(kSelectById, type));
    if (!st) return Fail(st.error());
    if (auto b = (*st)->BindAll({id}); !b) return Fail(b.error());
    auto row = (*st)->Step();
    if (!row) return Fail(row.error());
    if (*row) {
      TaskDetail d = ReadDetail(**st, type);
      (*st)->Reset();
      return d;
    }
  }
  return Fail(Error::NotFound("Task with ID " + id + " not found"));
}

Result<std::vector<StatsRow>> SqliteTaskStore::Stats(const TaskQuery& query, Micros now) {
  storage::SqlStatement st = BuildStatsStatement(query, now);
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  auto stmt = (*reader)->Prepare(ToSqlitePlaceholders(st.sql));
  if (!stmt) return Fail(stmt.error());
  if (auto b = (*stmt)->BindAll(st.params); !b) return Fail(b.error());
  std::vector<StatsRow> out;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto type = ParseTaskType((*stmt)->Text(0));
    auto status = ParseTaskStatus((*stmt)->Text(1));
    if (type && status) out.push_back({*type, *status, (*stmt)->Int(2)});
  }
  (*stmt)->Reset();
  return out;
}

Result<CancelOutcome> SqliteTaskStore::Cancel(std::string_view id_view,
                                              std::optional<std::string> reason) {
  const std::string id(id_view);
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<CancelOutcome> {
    auto type = LocateTask(conn, id);
    if (!type) return Fail(type.error());
    int changed = 0;
    if (auto s = RunStatement(conn, Sql(kCancelQueued, *type), {now, Opt(reason), id}, &changed);
        !s) {
      return Fail(s.error());
    }
    if (changed) return CancelOutcome::kCancelled;
    if (auto s = RunStatement(conn, Sql(kRequestCancel, *type), {now, Opt(reason), id}, &changed);
        !s) {
      return Fail(s.error());
    }
    if (changed) return CancelOutcome::kRequested;
    return Fail(Error::FailedPrecondition("Task " + id +
                                          " has already finished; only queued or running tasks "
                                          "can be cancelled"));
  });
}

Result<TaskDetail> SqliteTaskStore::Retry(std::string_view id_view, int attempt_budget) {
  const std::string id(id_view);
  const Micros now = NowMicros();
  auto done = WriteTxn([&](Connection& conn) -> Status {
    auto type = LocateTask(conn, id);
    if (!type) return Fail(type.error());
    int changed = 0;
    if (auto s = RunStatement(conn, Sql(kRetry, *type),
                              {std::int64_t{std::max(1, attempt_budget)}, now, id}, &changed);
        !s) {
      return s;
    }
    if (!changed) {
      return Fail(Error::FailedPrecondition(
          "Task " + id + " is not failed or cancelled; only those can be retried"));
    }
    return {};
  });
  if (!done) return Fail(done.error());
  return Get(id);
}

namespace {

// Claims up to `max` tasks of `type` inside the caller's transaction; appends them oldest first.
Status ClaimIn(Connection& conn, TaskType type, int max, const std::string& worker_id, Micros now,
               Micros lease, std::vector<TaskDetail>& out) {
  if (max <= 0) return {};
  auto st = conn.Prepare(Sql(kClaim, type));
  if (!st) return Fail(st.error());
  if (auto b = (*st)->BindAll({worker_id, now, now + lease, std::int64_t{max}}); !b) return b;
  const size_t first = out.size();
  for (;;) {
    auto row = (*st)->Step();
    if (!row) {
      (*st)->Reset();
      return Fail(row.error());
    }
    if (!*row) break;
    out.push_back(ReadDetail(**st, type));
  }
  (*st)->Reset();
  // RETURNING yields rows in no promised order; run oldest first.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const TaskDetail& a, const TaskDetail& b) {
              return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
            });
  return {};
}

Status CompleteIn(Connection& conn, std::span<const Completion> completions, Micros now) {
  for (const Completion& c : completions) {
    const LeaseRef& r = c.lease;
    Status s;
    if (c.kind == Completion::Kind::kReleased) {
      s = RunStatement(conn, Sql(kRelease, r.type),
                       {c.run_after, now, r.id, r.worker_id, std::int64_t{r.attempt}});
    } else if (c.kind == Completion::Kind::kRetryLater) {
      s = RunStatement(conn, Sql(kRequeue, r.type),
                       {c.run_after, now,
                        std::string("retrying after error: ") + c.error_msg.value_or("unknown"),
                        r.id, r.worker_id, std::int64_t{r.attempt}});
    } else {
      const char* code = c.kind == Completion::Kind::kDone     ? "D"
                         : c.kind == Completion::Kind::kFailed ? "F"
                                                               : "C";
      s = RunStatement(conn, Sql(kFinish, r.type),
                       {std::string(code), now, Opt(c.error_msg), Opt(c.result), r.id, r.worker_id,
                        std::int64_t{r.attempt}, Opt(c.progress_msg)});
    }
    if (!s) return s;
  }
  return {};
}

}  // namespace

Result<std::vector<TaskDetail>> SqliteTaskStore::Claim(TaskType type, int max,
                                                       const std::string& worker_id, Micros lease) {
  const ClaimRequest req{type, max};
  return CompleteAndClaim({}, std::span<const ClaimRequest>(&req, 1), worker_id, lease);
}

Status SqliteTaskStore::Complete(std::span<const Completion> completions) {
  if (completions.empty()) return {};
  auto r = CompleteAndClaim(completions, {}, {}, 0);
  if (!r) return Fail(r.error());
  return {};
}

Result<std::vector<TaskDetail>> SqliteTaskStore::CompleteAndClaim(
    std::span<const Completion> completions, std::span<const ClaimRequest> claims,
    const std::string& worker_id, Micros lease) {
  std::vector<TaskDetail> out;
  bool any_claim = false;
  for (const auto& c : claims) any_claim |= c.max > 0;
  if (completions.empty() && !any_claim) return out;
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<std::vector<TaskDetail>> {
    if (auto s = CompleteIn(conn, completions, now); !s) return Fail(s.error());
    for (const auto& c : claims) {
      if (auto s = ClaimIn(conn, c.type, c.max, worker_id, now, lease, out); !s) {
        return Fail(s.error());
      }
    }
    return std::move(out);
  });
}

Result<std::vector<LeaseRef>> SqliteTaskStore::RenewLeases(std::span<const LeaseRef> runs,
                                                           Micros lease) {
  if (runs.empty()) return std::vector<LeaseRef>{};
  const Micros until = NowMicros() + lease;
  return WriteTxn([&](Connection& conn) -> Result<std::vector<LeaseRef>> {
    std::vector<LeaseRef> lost;
    for (const LeaseRef& r : runs) {
      int changed = 0;
      if (auto s = RunStatement(conn, Sql(kRenew, r.type),
                                {until, r.id, r.worker_id, std::int64_t{r.attempt}}, &changed);
          !s) {
        return Fail(s.error());
      }
      if (!changed) lost.push_back(r);
    }
    return lost;
  });
}

Result<std::vector<LeaseRef>> SqliteTaskStore::CancelRequested(std::span<const LeaseRef> runs) {
  std::vector<LeaseRef> out;
  if (runs.empty()) return out;
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  for (const LeaseRef& r : runs) {
    auto st = (*reader)->Prepare(Sql(kCancelRequested, r.type));
    if (!st) return Fail(st.error());
    if (auto b = (*st)->BindAll({r.id, r.worker_id, std::int64_t{r.attempt}}); !b) {
      return Fail(b.error());
    }
    auto row = (*st)->Step();
    if (!row) return Fail(row.error());
    if (*row && (*st)->Int(0) != 0) out.push_back(r);
    (*st)->Reset();
  }
  return out;
}

Status SqliteTaskStore::ReportProgress(const LeaseRef& run, std::optional<double> progress,
                                       const std::string& message) {
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Status {
    return RunStatement(
        conn, Sql(kProgress, run.type),
        {Opt(progress), message, now, run.id, run.worker_id, std::int64_t{run.attempt}});
  });
}

Result<RescueReport> SqliteTaskStore::RescueExpired() {
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<RescueReport> {
    RescueReport report;
    for (TaskType type : kAllTaskTypes) {
      auto st = conn.Prepare(Sql(kRescue, type));
      if (!st) return Fail(st.error());
      if (auto b = (*st)->BindAll({now}); !b) return Fail(b.error());
      for (;;) {
        auto row = (*st)->Step();
        if (!row) {
          (*st)->Reset();
          return Fail(row.error());
        }
        if (!*row) break;
        const std::string status = (*st)->Text(0);
        report.ids.push_back((*st)->Text(1));
        if (status == "Q") ++report.requeued;
        if (status == "F") ++report.failed;
        if (status == "C") ++report.cancelled;
      }
      (*st)->Reset();
    }
    return report;
  });
}

Result<std::vector<std::pair<TaskType, Micros>>> SqliteTaskStore::OldestQueued() {
  const storage::SqlStatement st = BuildOldestQueuedStatement();
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  auto stmt = (*reader)->Prepare(st.sql);
  if (!stmt) return Fail(stmt.error());
  std::vector<std::pair<TaskType, Micros>> out;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) {
      (*stmt)->Reset();
      return Fail(row.error());
    }
    if (!*row) break;
    if (auto type = ParseTaskType((*stmt)->Text(0))) out.emplace_back(*type, (*stmt)->Int(1));
  }
  (*stmt)->Reset();
  return out;
}

Status SqliteTaskStore::Ping() {
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  auto st = (*reader)->Prepare("SELECT count(*) FROM schema_migrations");
  if (!st) return Fail(Error::Unavailable(st.error().message));
  auto row = (*st)->Step();
  (*st)->Reset();
  if (!row) return Fail(Error::Unavailable(row.error().message));
  return {};
}

Result<std::vector<std::string>> SqliteTaskStore::ExplainQueryPlan(
    const storage::SqlStatement& st) {
  auto reader = AcquireReader();
  if (!reader) return Fail(reader.error());
  auto stmt = (*reader)->Prepare("EXPLAIN QUERY PLAN " + ToSqlitePlaceholders(st.sql));
  if (!stmt) return Fail(stmt.error());
  if (auto b = (*stmt)->BindAll(st.params); !b) return Fail(b.error());
  std::vector<std::string> lines;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    lines.push_back((*stmt)->Text(3));
  }
  (*stmt)->Reset();
  return lines;
}

}  // namespace vectorize::tasks
