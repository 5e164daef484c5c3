#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

namespace vectorize::storage {

namespace {

class SqliteSession final : public Session {
 public:
  explicit SqliteSession(sqlite::Connection& conn) : conn_(conn) {}
  Result<Rows> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    return RunSqlite(conn_, sql, params);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  sqlite::Connection& conn_;
};

}  // namespace

Result<Rows> RunSqlite(sqlite::Connection& conn, const std::string& sql,
                       const std::vector<SqlValue>& params) {
  auto stmt = conn.Prepare(sqlite::ToSqlitePlaceholders(sql));
  if (!stmt) return Fail(stmt.error());
  if (auto s = (*stmt)->BindAll(params); !s) return Fail(s.error());
  std::vector<SqlValue> cells;
  int columns = 0;
  for (;;) {
    auto more = (*stmt)->Step();
    if (!more) {
      (*stmt)->Reset();
      return Fail(more.error());
    }
    if (!*more) break;
    columns = (*stmt)->ColumnCount();
    for (int c = 0; c < columns; ++c) cells.push_back((*stmt)->Column(c));
  }
  const std::int64_t affected = sqlite3_changes(conn.raw());
  (*stmt)->Reset();
  return Rows(columns, std::move(cells), affected);
}

Result<std::unique_ptr<Database>> SqliteDatabase::Open(const std::string& path, int pool_size) {
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, pool_size < 1 ? 1 : pool_size));
  // Open one connection now so a bad path fails at start, not at the first request.
  auto conn = sqlite::Connection::Open(path);
  if (!conn) return Fail(conn.error());
  db->open_ = 1;
  db->idle_.push_back(std::move(*conn));
  return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<sqlite::Connection>> SqliteDatabase::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  auto conn = sqlite::Connection::Open(path_);
  if (!conn) {
    std::lock_guard relock(mu_);
    --open_;
    cv_.notify_one();
    return Fail(conn.error());
  }
  return std::move(*conn);
}

void SqliteDatabase::Release(std::unique_ptr<sqlite::Connection> conn) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
  cv_.notify_one();
}

Result<Rows> SqliteDatabase::Query(const std::string& sql, const std::vector<SqlValue>& params) {
  auto conn = Acquire();
  if (!conn) return Fail(conn.error());
  auto rows = RunSqlite(**conn, sql, params);
  Release(std::move(*conn));
  return rows;
}

Status SqliteDatabase::Transaction(const std::function<Status(Session&)>& fn) {
  auto conn = Acquire();
  if (!conn) return Fail(conn.error());
  Status result = (*conn)->Begin();
  if (result) {
    SqliteSession session(**conn);
    result = fn(session);
    if (result) {
      result = (*conn)->Commit();
      if (!result) (*conn)->Rollback();
    } else {
      (*conn)->Rollback();
    }
  }
  Release(std::move(*conn));
  return result;
}

}  // namespace vectorize::storage
