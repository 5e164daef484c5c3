#include "tasks/postgres/postgres_task_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "common/uuid.h"
#include "storage/migrations.h"
#include "storage/postgres/migrations.h"
#include "tasks/task_columns.h"

namespace vectorize::tasks {

using storage::SqlValue;
using storage::postgres::Connection;
using storage::postgres::Rows;

namespace {

constexpr std::string_view kDetailColumns = columns::kDetail;
constexpr int kDetailColumnCount = columns::kDetailCount;

// The statements of SqliteTaskStore, in PostgreSQL's dialect; {0} is the table name, {1} the
// detail columns.
// Many whole rows of one table (imports, the benchmark seeder): one statement per chunk, the
// columns as arrays (text literals cast by the server), instead of one round trip per row.
constexpr std::string_view kInsertMany =
    "INSERT INTO {0} (id, task_status, tag, created_at, started_at, updated_at, end_date, "
    "error_msg, progress, progress_msg, attempts, max_attempts, run_after, worker_id, "
    "lease_expires_at, cancel_requested, inputs, result) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], "
    "$6::int8[], $7::int8[], $8::text[], $9::float8[], $10::text[], $11::int[], $12::int[], "
    "$13::int8[], $14::text[], $15::int8[], $16::int[], $17::text[], $18::text[])";
constexpr std::size_t kInsertChunk = 2000;  // rows per statement (bounds the literal's size)
// Queues many tasks of one table: one round trip per type per call.
constexpr std::string_view kEnqueueMany =
    "INSERT INTO {0} (id, task_status, tag, created_at, updated_at, attempts, max_attempts, "
    "run_after, cancel_requested, inputs) "
    "SELECT v.id, 'Q', v.tag, $1, $1, 1, v.maxa, $1, 0, v.inputs "
    "FROM unnest($2::text[], $3::text[], $4::int[], $5::text[]) AS v(id, tag, maxa, inputs)";
// Rows locked by another claimer are skipped, not waited for: concurrent claimers each take
// different tasks, and none ever takes a task another one holds.
constexpr std::string_view kClaim =
    "UPDATE {0} SET task_status = 'R', worker_id = $1, started_at = $2, updated_at = $2, "
    "lease_expires_at = $3, progress = NULL, progress_msg = NULL "
    "WHERE id IN (SELECT id FROM {0} WHERE task_status = 'Q' AND run_after <= $2 "
    "ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING {1}";
constexpr std::string_view kRenew =
    "UPDATE {0} SET lease_expires_at = $1 "
    "WHERE id = $2 AND task_status = 'R' AND worker_id = $3 AND attempts = $4";
constexpr std::string_view kCancelRequested =
    "SELECT cancel_requested FROM {0} "
    "WHERE id = $1 AND task_status = 'R' AND worker_id = $2 AND attempts = $3";
constexpr std::string_view kProgress =
    "UPDATE {0} SET progress = $1, progress_msg = $2, updated_at = $3 "
    "WHERE id = $4 AND task_status = 'R' AND worker_id = $5 AND attempts = $6";
// Finishes many runs (D/F/C) of one table, each fenced by (worker_id, attempts): one round trip
// per batch instead of one per run.
constexpr std::string_view kFinishMany =
    "UPDATE {0} t SET task_status = v.st, end_date = $1, updated_at = $1, "
    // A cancelled task keeps the reason given with its cancel request, if any.
    "error_msg = CASE WHEN v.st = 'C' THEN coalesce(t.error_msg, v.err) ELSE v.err END, "
    "result = coalesce(v.res, t.result), "
    "progress = CASE WHEN v.st = 'D' THEN 1.0 ELSE t.progress END, "
    "progress_msg = coalesce(v.pmsg, t.progress_msg), worker_id = NULL, lease_expires_at = NULL "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], "
    "$8::text[]) AS v(id, st, err, res, worker, att, pmsg) "
    "WHERE t.id = v.id COLLATE \"C\" AND t.task_status = 'R' "
    "AND t.worker_id = v.worker COLLATE \"C\" AND t.attempts = v.att";
constexpr std::string_view kRequeue =
    "UPDATE {0} SET task_status = 'Q', attempts = attempts + 1, run_after = $1, updated_at = $2, "
    "progress = NULL, progress_msg = $3, worker_id = NULL, lease_expires_at = NULL "
    "WHERE id = $4 AND task_status = 'R' AND worker_id = $5 AND attempts = $6";
constexpr std::string_view kRelease =
    "UPDATE {0} SET task_status = 'Q', run_after = $1, updated_at = $2, "
    "progress_msg = 'released by a stopping worker', worker_id = NULL, lease_expires_at = NULL "
    "WHERE id = $3 AND task_status = 'R' AND worker_id = $4 AND attempts = $5";
constexpr std::string_view kRescue =
    "UPDATE {0} SET "
    "task_status = CASE WHEN cancel_requested = 1 THEN 'C' "
    "  WHEN attempts >= max_attempts THEN 'F' ELSE 'Q' END, "
    "end_date = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN $1 END, "
    "error_msg = CASE WHEN cancel_requested = 1 THEN coalesce(error_msg, 'cancelled (worker "
    "lost)') "
    "  WHEN attempts >= max_attempts THEN 'worker lost' END, "
    "progress_msg = CASE WHEN cancel_requested = 0 AND attempts < max_attempts "
    "  THEN 'requeued: worker lost' ELSE progress_msg END, "
    "attempts = CASE WHEN cancel_requested = 0 AND attempts < max_attempts "
    "  THEN attempts + 1 ELSE attempts END, "
    "run_after = $1, updated_at = $1, worker_id = NULL, lease_expires_at = NULL "
    "WHERE task_status = 'R' AND lease_expires_at < $1 RETURNING task_status, id";
constexpr std::string_view kCancelQueued =
    "UPDATE {0} SET task_status = 'C', end_date = $1, updated_at = $1, error_msg = $2 "
    "WHERE id = $3 AND task_status = 'Q'";
constexpr std::string_view kRequestCancel =
    "UPDATE {0} SET cancel_requested = 1, updated_at = $1, error_msg = coalesce($2, error_msg) "
    "WHERE id = $3 AND task_status = 'R'";
constexpr std::string_view kRetry =
    "UPDATE {0} SET task_status = 'Q', attempts = attempts + 1, max_attempts = attempts + $1, "
    "end_date = NULL, error_msg = NULL, progress = NULL, progress_msg = NULL, "
    "cancel_requested = 0, started_at = NULL, run_after = $2, updated_at = $2 "
    "WHERE id = $3 AND task_status IN ('F', 'C')";
constexpr std::string_view kNotify = "SELECT pg_notify($1, $2)";

// The statement text for one table, formatted once per thread.
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

// One statement over the five tables: {columns}, <type index> of the row with id $1.
std::string AcrossTables(std::string_view columns) {
  std::string out;
  for (size_t i = 0; i < kAllTaskTypes.size(); ++i) {
    if (i) out += " UNION ALL ";
    out += fmt::format("SELECT {}{}{} FROM {} WHERE id = $1", columns, columns.empty() ? "" : ", ",
                       i, TaskTable(kAllTaskTypes[i]));
  }
  return out;
}
const std::string& SelectByIdSql() {
  static const std::string sql = AcrossTables(kDetailColumns);
  return sql;
}
const std::string& LocateSql() {
  static const std::string sql = AcrossTables("");
  return sql;
}

SqlValue Opt(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}
SqlValue Opt(const std::optional<Micros>& v) {
  return v ? SqlValue(std::int64_t{*v}) : SqlValue(std::monostate{});
}
SqlValue Opt(const std::optional<double>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}

// One row of a result, as columns:: reads rows.
struct RowRef {
  const Rows& rows;
  int i;
  [[nodiscard]] std::string Text(int c) const { return rows.Text(i, c); }
  [[nodiscard]] std::optional<std::string> OptText(int c) const { return rows.OptText(i, c); }
  [[nodiscard]] std::int64_t Int(int c) const { return rows.Int(i, c); }
  [[nodiscard]] std::optional<std::int64_t> OptInt(int c) const { return rows.OptInt(i, c); }
  [[nodiscard]] std::optional<double> OptDouble(int c) const { return rows.OptDouble(i, c); }
};

void ReadRecordColumns(const Rows& rows, int i, int first, TaskRecord& r) {
  columns::ReadRecord(RowRef{rows, i}, first, r);
}
TaskDetail ReadDetail(const Rows& rows, int i, TaskType type) {
  return columns::ReadDetail(RowRef{rows, i}, type);
}
using columns::CheckNewTask;

Status RunStatement(Connection& conn, const std::string& sql, const std::vector<SqlValue>& params,
                    std::int64_t* changes = nullptr) {
  auto rows = conn.Query(sql, params);
  if (!rows) return Fail(rows.error());
  if (changes) *changes = rows->affected();
  return {};
}

// Wakes the engines of other processes: delivered when (and only if) the transaction commits.
Status Notify(Connection& conn, const std::set<TaskType>& types) {
  for (TaskType type : types) {
    if (auto s = RunStatement(
            conn, std::string(kNotify),
            {std::string(PostgresTaskStore::kNotifyChannel), std::string(TaskTypeName(type))});
        !s) {
      return s;
    }
  }
  return {};
}

Result<TaskType> LocateTask(Connection& conn, const std::string& id) {
  auto rows = conn.Query(LocateSql(), {id});
  if (!rows) return Fail(rows.error());
  if (rows->empty()) return Fail(Error::NotFound("Task with ID " + id + " not found"));
  return kAllTaskTypes[static_cast<size_t>(rows->Int(0, 0))];
}

Status ClaimIn(Connection& conn, TaskType type, int max, const std::string& worker_id, Micros now,
               Micros lease, std::vector<TaskDetail>& out) {
  if (max <= 0) return {};
  auto rows = conn.Query(Sql(kClaim, type), {worker_id, now, now + lease, std::int64_t{max}});
  if (!rows) return Fail(rows.error());
  const size_t first = out.size();
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadDetail(*rows, i, type));
  // RETURNING yields rows in no promised order; run oldest first.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const TaskDetail& a, const TaskDetail& b) {
              return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
            });
  return {};
}

// A PostgreSQL array literal of text values: {"a","b\\"c",NULL}.
std::string TextArray(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : *values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

Status CompleteIn(Connection& conn, std::span<const Completion> completions, Micros now) {
  std::set<TaskType> requeued;
  // Finished runs (D/F/C), per table, as one statement each.
  struct Columns {
    std::vector<std::optional<std::string>> id, st, err, res, worker, att, pmsg;
  };
  std::map<TaskType, Columns> finished;
  for (const Completion& c : completions) {
    const LeaseRef& r = c.lease;
    Status s;
    std::int64_t changed = 0;
    if (c.kind == Completion::Kind::kReleased) {
      s = RunStatement(conn, Sql(kRelease, r.type),
                       {c.run_after, now, r.id, r.worker_id, std::int64_t{r.attempt}}, &changed);
      if (changed) requeued.insert(r.type);
    } else if (c.kind == Completion::Kind::kRetryLater) {
      s = RunStatement(conn, Sql(kRequeue, r.type),
                       {c.run_after, now,
                        std::string("retrying after error: ") + c.error_msg.value_or("unknown"),
                        r.id, r.worker_id, std::int64_t{r.attempt}},
                       &changed);
      if (changed) requeued.insert(r.type);
    } else {
      Columns& col = finished[r.type];
      col.id.push_back(r.id);
      col.st.push_back(c.kind == Completion::Kind::kDone     ? "D"
                       : c.kind == Completion::Kind::kFailed ? "F"
                                                             : "C");
      col.err.push_back(c.error_msg);
      col.res.push_back(c.result);
      col.worker.push_back(r.worker_id);
      col.att.push_back(std::to_string(r.attempt));
      col.pmsg.push_back(c.progress_msg);
    }
    if (!s) return s;
  }
  for (const auto& [type, col] : finished) {
    if (auto s = RunStatement(
            conn, Sql(kFinishMany, type),
            {now, TextArray(col.id), TextArray(col.st), TextArray(col.err), TextArray(col.res),
             TextArray(col.worker), TextArray(col.att), TextArray(col.pmsg)});
        !s) {
      return s;
    }
  }
  return Notify(conn, requeued);
}

constexpr int kMaxAbortRetries = 3;

}  // namespace

Result<std::unique_ptr<PostgresTaskStore>> PostgresTaskStore::Open(Options options) {
  storage::postgres::Pool::Options po;
  po.connection.url = options.url;
  po.connection.connect_timeout_s = options.connect_timeout_s;
  po.size = std::max(1, options.pool_size);
  po.acquire_timeout = std::chrono::milliseconds(options.acquire_timeout_ms);
  storage::postgres::Pool::Options page_po = po;
  page_po.size = std::min(po.size, 4);
  page_po.connection.session_sql += "; SET plan_cache_mode = force_generic_plan";
  auto pool = std::make_unique<storage::postgres::Pool>(std::move(po));
  {
    auto conn = pool->Acquire();
    if (!conn) return Fail(conn.error());
    if (options.migrate) {
      if (auto s = storage::postgres::Migrate(**conn); !s) return Fail(s.error());
    } else {
      auto v = storage::postgres::SchemaVersion(**conn);
      if (!v) return Fail(v.error());
      const int latest = storage::PostgresMigrations().back().version;
      if (*v < latest) {
        return Fail(Error::FailedPrecondition(
            "database schema is at version " + std::to_string(*v) + ", this binary needs " +
            std::to_string(latest) + ": run `vectorize migrate`"));
      }
    }
  }
  return std::unique_ptr<PostgresTaskStore>(new PostgresTaskStore(
      std::move(pool), std::make_unique<storage::postgres::Pool>(std::move(page_po))));
}

template <typename Fn>
auto PostgresTaskStore::WriteTxn(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  bool reconnected = false;
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_->Acquire();
    if (!lease) return std::unexpected(lease.error());
    Connection& conn = **lease;
    auto broken_retry = [&]() -> bool {
      // Nothing of this transaction committed: safe to run it again on a fresh connection.
      if (conn.ok() || reconnected) return false;
      reconnected = true;
      return static_cast<bool>(conn.Reset());
    };
    if (auto s = conn.Begin(); !s) {
      if (broken_retry()) continue;
      return std::unexpected(s.error());
    }
    auto result = fn(conn);
    if (!result) {
      conn.Rollback();
      if (broken_retry()) continue;
      if (result.error().code == ErrorCode::kAborted && attempt < kMaxAbortRetries) continue;
      return result;
    }
    if (auto s = conn.Commit(); !s) {
      // A serialization failure at COMMIT rolled everything back; a lost connection leaves the
      // outcome unknown, so that is reported (unavailable), never retried.
      conn.Rollback();
      if (s.error().code == ErrorCode::kAborted && attempt < kMaxAbortRetries) continue;
      return std::unexpected(s.error());
    }
    return result;
  }
}

Result<std::vector<std::string>> PostgresTaskStore::Enqueue(std::span<const NewTask> tasks) {
  for (const NewTask& t : tasks) {
    if (auto s = CheckNewTask(t); !s) return Fail(s.error());
  }
  std::vector<std::string> ids;
  ids.reserve(tasks.size());
  for (const NewTask& t : tasks) ids.push_back(t.id.empty() ? NewUuidV7() : t.id);
  const Micros now = NowMicros();
  struct Columns {
    std::vector<std::optional<std::string>> id, tag, maxa, inputs;
  };
  std::map<TaskType, Columns> by_type;
  for (size_t i = 0; i < tasks.size(); ++i) {
    Columns& col = by_type[tasks[i].type];
    col.id.push_back(ids[i]);
    col.tag.push_back(tasks[i].tag);
    col.maxa.push_back(std::to_string(tasks[i].max_attempts));
    col.inputs.push_back(tasks[i].inputs);
  }
  return WriteTxn([&](Connection& conn) -> Result<std::vector<std::string>> {
    std::set<TaskType> types;
    for (const auto& [type, col] : by_type) {
      if (auto s = RunStatement(conn, Sql(kEnqueueMany, type),
                                {now, TextArray(col.id), TextArray(col.tag), TextArray(col.maxa),
                                 TextArray(col.inputs)});
          !s) {
        return Fail(s.error());
      }
      types.insert(type);
    }
    if (auto s = Notify(conn, types); !s) return Fail(s.error());
    return ids;
  });
}

Status PostgresTaskStore::BulkInsert(std::span<const TaskDetail> tasks) {
  using Column = std::vector<std::optional<std::string>>;
  const auto num = [](auto v) { return std::optional<std::string>(fmt::format("{}", v)); };
  const auto opt_num = [&](const auto& v) { return v ? num(*v) : std::nullopt; };
  // Rows grouped by table, each group in chunks of kInsertChunk, in the order given.
  std::map<TaskType, std::vector<const TaskDetail*>> by_type;
  for (const TaskDetail& t : tasks) by_type[t.type].push_back(&t);
  return WriteTxn([&](Connection& conn) -> Status {
    for (const auto& [type, rows] : by_type) {
      for (std::size_t first = 0; first < rows.size(); first += kInsertChunk) {
        std::array<Column, 18> col;
        for (std::size_t i = first; i < std::min(rows.size(), first + kInsertChunk); ++i) {
          const TaskDetail& t = *rows[i];
          col[0].push_back(t.id);
          col[1].push_back(std::string(1, TaskStatusCode(t.status)));
          col[2].push_back(t.tag);
          col[3].push_back(num(t.created_at));
          col[4].push_back(opt_num(t.started_at));
          col[5].push_back(num(t.updated_at));
          col[6].push_back(opt_num(t.end_date));
          col[7].push_back(t.error_msg);
          col[8].push_back(opt_num(t.progress));  // fmt's shortest form reads back exactly
          col[9].push_back(t.progress_msg);
          col[10].push_back(num(t.attempts));
          col[11].push_back(num(t.max_attempts));
          col[12].push_back(num(t.run_after));
          col[13].push_back(t.worker_id);
          col[14].push_back(opt_num(t.lease_expires_at));
          col[15].push_back(num(t.cancel_requested ? 1 : 0));
          col[16].push_back(t.inputs);
          col[17].push_back(t.result);
        }
        std::vector<SqlValue> params;
        params.reserve(col.size());
        for (const Column& c : col) params.emplace_back(TextArray(c));
        if (auto s = RunStatement(conn, Sql(kInsertMany, type), params); !s) return s;
      }
    }
    return {};
  });
}

Result<std::vector<TaskRecord>> PostgresTaskStore::List(const TaskQuery& query, Micros now) {
  const storage::SqlStatement st = BuildListStatement(query, now, storage::Dialect::kPostgres);
  const bool page = query.limit.has_value();
  return (page ? page_pool_ : pool_)->Run([&](Connection& conn) -> Result<std::vector<TaskRecord>> {
    // The tag parameter is NULL (and unreferenced) when not filtering by tag: typed as text.
    auto rows = conn.Query(st.sql, st.params, /*prepare=*/page, /*null_as_text=*/true);
    if (!rows) return Fail(rows.error());
    std::vector<TaskRecord> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      TaskRecord r;
      r.id = rows->Text(i, 0);
      r.type = ParseTaskType(rows->Text(i, 1)).value_or(TaskType::kModelUpload);
      ReadRecordColumns(*rows, i, 2, r);
      out.push_back(std::move(r));
    }
    return out;
  });
}

Result<TaskDetail> PostgresTaskStore::Get(std::string_view id_view) {
  const std::string id(id_view);
  return pool_->Run([&](Connection& conn) -> Result<TaskDetail> {
    auto rows = conn.Query(SelectByIdSql(), {id});
    if (!rows) return Fail(rows.error());
    if (rows->empty()) return Fail(Error::NotFound("Task with ID " + id + " not found"));
    return ReadDetail(*rows, 0,
                      kAllTaskTypes[static_cast<size_t>(rows->Int(0, kDetailColumnCount))]);
  });
}

Result<std::vector<StatsRow>> PostgresTaskStore::Stats(const TaskQuery& query, Micros now) {
  const storage::SqlStatement st = BuildStatsStatement(query, now);
  return pool_->Run([&](Connection& conn) -> Result<std::vector<StatsRow>> {
    auto rows = conn.Query(st.sql, st.params, /*prepare=*/false, /*null_as_text=*/true);
    if (!rows) return Fail(rows.error());
    std::vector<StatsRow> out;
    for (int i = 0; i < rows->size(); ++i) {
      auto type = ParseTaskType(rows->Text(i, 0));
      auto status = ParseTaskStatus(rows->Text(i, 1));
      if (type && status) out.push_back({*type, *status, rows->Int(i, 2)});
    }
    return out;
  });
}

Result<CancelOutcome> PostgresTaskStore::Cancel(std::string_view id_view,
                                                std::optional<std::string> reason) {
  const std::string id(id_view);
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<CancelOutcome> {
    auto type = LocateTask(conn, id);
    if (!type) return Fail(type.error());
    std::int64_t changed = 0;
    if (auto s = RunStatement(conn, Sql(kCancelQueued, *type), {now, Opt(reason), id}, &changed);
        !s) {
      return Fail(s.error());
    }
    if (changed) return CancelOutcome::kCancelled;
    if (auto s = RunStatement(conn, Sql(kRequestCancel, *type), {now, Opt(reason), id}, &changed);
        !s) {
      return Fail(s.error());
    }
    if (changed) {
      // Reaches the engine running it, in whichever process (PgListener), at commit.
      if (auto s = RunStatement(conn, std::string(kNotify),
                                {std::string(PostgresTaskStore::kCancelChannel), id});
          !s) {
        return Fail(s.error());
      }
      return CancelOutcome::kRequested;
    }
    return Fail(Error::FailedPrecondition("Task " + id +
                                          " has already finished; only queued or running tasks "
                                          "can be cancelled"));
  });
}

Result<TaskDetail> PostgresTaskStore::Retry(std::string_view id_view, int attempt_budget) {
  const std::string id(id_view);
  const Micros now = NowMicros();
  auto done = WriteTxn([&](Connection& conn) -> Status {
    auto type = LocateTask(conn, id);
    if (!type) return Fail(type.error());
    std::int64_t changed = 0;
    if (auto s = RunStatement(conn, Sql(kRetry, *type),
                              {std::int64_t{std::max(1, attempt_budget)}, now, id}, &changed);
        !s) {
      return s;
    }
    if (!changed) {
      return Fail(Error::FailedPrecondition(
          "Task " + id + " is not failed or cancelled; only those can be retried"));
    }
    return Notify(conn, {*type});
  });
  if (!done) return Fail(done.error());
  return Get(id);
}

Result<std::vector<TaskDetail>> PostgresTaskStore::Claim(TaskType type, int max,
                                                         const std::string& worker_id,
                                                         Micros lease) {
  const ClaimRequest req{type, max};
  return CompleteAndClaim({}, std::span<const ClaimRequest>(&req, 1), worker_id, lease);
}

Status PostgresTaskStore::Complete(std::span<const Completion> completions) {
  if (completions.empty()) return {};
  auto r = CompleteAndClaim(completions, {}, {}, 0);
  if (!r) return Fail(r.error());
  return {};
}

Result<std::vector<TaskDetail>> PostgresTaskStore::CompleteAndClaim(
    std::span<const Completion> completions, std::span<const ClaimRequest> claims,
    const std::string& worker_id, Micros lease) {
  bool any_claim = false;
  for (const auto& c : claims) any_claim |= c.max > 0;
  if (completions.empty() && !any_claim) return std::vector<TaskDetail>{};
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<std::vector<TaskDetail>> {
    std::vector<TaskDetail> out;
    if (auto s = CompleteIn(conn, completions, now); !s) return Fail(s.error());
    for (const auto& c : claims) {
      if (auto s = ClaimIn(conn, c.type, c.max, worker_id, now, lease, out); !s) {
        return Fail(s.error());
      }
    }
    return out;
  });
}

Result<std::vector<LeaseRef>> PostgresTaskStore::RenewLeases(std::span<const LeaseRef> runs,
                                                             Micros lease) {
  if (runs.empty()) return std::vector<LeaseRef>{};
  const Micros until = NowMicros() + lease;
  return WriteTxn([&](Connection& conn) -> Result<std::vector<LeaseRef>> {
    std::vector<LeaseRef> lost;
    for (const LeaseRef& r : runs) {
      std::int64_t changed = 0;
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

Result<std::vector<LeaseRef>> PostgresTaskStore::CancelRequested(std::span<const LeaseRef> runs) {
  if (runs.empty()) return std::vector<LeaseRef>{};
  return pool_->Run([&](Connection& conn) -> Result<std::vector<LeaseRef>> {
    std::vector<LeaseRef> out;
    for (const LeaseRef& r : runs) {
      auto rows =
          conn.Query(Sql(kCancelRequested, r.type), {r.id, r.worker_id, std::int64_t{r.attempt}});
      if (!rows) return Fail(rows.error());
      if (!rows->empty() && rows->Int(0, 0) != 0) out.push_back(r);
    }
    return out;
  });
}

Status PostgresTaskStore::ReportProgress(const LeaseRef& run, std::optional<double> progress,
                                         const std::string& message) {
  const Micros now = NowMicros();
  // One fenced statement (autocommit): repeating it after a reconnect is harmless.
  return pool_->Run([&](Connection& conn) -> Status {
    return RunStatement(
        conn, Sql(kProgress, run.type),
        {Opt(progress), message, now, run.id, run.worker_id, std::int64_t{run.attempt}});
  });
}

Result<RescueReport> PostgresTaskStore::RescueExpired() {
  const Micros now = NowMicros();
  return WriteTxn([&](Connection& conn) -> Result<RescueReport> {
    RescueReport report;
    std::set<TaskType> requeued;
    for (TaskType type : kAllTaskTypes) {
      auto rows = conn.Query(Sql(kRescue, type), {now});
      if (!rows) return Fail(rows.error());
      for (int i = 0; i < rows->size(); ++i) {
        const std::string status = rows->Text(i, 0);
        report.ids.push_back(rows->Text(i, 1));
        if (status == "Q") {
          ++report.requeued;
          requeued.insert(type);
        }
        if (status == "F") ++report.failed;
        if (status == "C") ++report.cancelled;
      }
    }
    if (auto s = Notify(conn, requeued); !s) return Fail(s.error());
    return report;
  });
}

Result<std::vector<std::pair<TaskType, Micros>>> PostgresTaskStore::OldestQueued() {
  const storage::SqlStatement st = BuildOldestQueuedStatement();
  return pool_->Run([&](Connection& conn) -> Result<std::vector<std::pair<TaskType, Micros>>> {
    auto rows = conn.Query(st.sql, {});
    if (!rows) return Fail(rows.error());
    std::vector<std::pair<TaskType, Micros>> out;
    for (int i = 0; i < rows->size(); ++i) {
      if (auto type = ParseTaskType(rows->Text(i, 0))) out.emplace_back(*type, rows->Int(i, 1));
    }
    return out;
  });
}

Status PostgresTaskStore::Ping() {
  auto s = pool_->Run([&](Connection& conn) -> Status {
    auto rows = conn.Query("SELECT 1", {});
    if (!rows) return Fail(rows.error());
    return {};
  });
  if (!s) return Fail(Error::Unavailable(s.error().message));
  return {};
}

Result<std::vector<std::string>> PostgresTaskStore::ExplainQueryPlan(
    const storage::SqlStatement& st) {
  return pool_->Run([&](Connection& conn) -> Result<std::vector<std::string>> {
    auto rows = conn.Query("EXPLAIN " + st.sql, st.params, false, true);
    if (!rows) return Fail(rows.error());
    std::vector<std::string> lines;
    for (int i = 0; i < rows->size(); ++i) lines.push_back(rows->Text(i, 0));
    return lines;
  });
}

}  // namespace vectorize::tasks
