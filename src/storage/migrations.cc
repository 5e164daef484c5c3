#include "storage/migrations.h"

#include <spdlog/spdlog.h>

#include <string>

namespace vectorize::storage {

namespace {
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
constexpr const char* kSelectVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES (?1, ?2, CAST(strftime('%s','now') AS INTEGER) * 1000000)";
}  // namespace

Result<int> SqliteSchemaVersion(sqlite::Connection& conn) {
  if (auto s = conn.Exec(kCreateMigrationsTable); !s) return Fail(s.error());
  auto stmt = conn.Prepare(kSelectVersion);
  if (!stmt) return Fail(stmt.error());
  auto row = (*stmt)->Step();
  if (!row) return Fail(row.error());
  int version = static_cast<int>((*stmt)->Int(0));
  (*stmt)->Reset();
  return version;
}

Status MigrateSqlite(sqlite::Connection& conn) {
  // BEGIN IMMEDIATE serialises concurrent starters: the second sees the first's work.
  if (auto s = conn.Begin(); !s) return s;
  auto current = SqliteSchemaVersion(conn);
  if (!current) {
    conn.Rollback();
    return Fail(current.error());
  }
  auto migrations = SqliteMigrations();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*current > latest) {
    conn.Rollback();
    return Fail(Error::FailedPrecondition("database schema version " + std::to_string(*current) +
                                          " is newer than this binary understands (" +
                                          std::to_string(latest) + ")"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    if (auto s = conn.Exec(m.sql); !s) {
      conn.Rollback();
      return Fail(
          Error::Internal("migration " + std::string(m.name) + " failed: " + s.error().message));
    }
    auto stmt = conn.Prepare(kRecordMigration);
    if (!stmt) {
      conn.Rollback();
      return Fail(stmt.error());
    }
    if (auto b = (*stmt)->BindAll({std::int64_t{m.version}, std::string(m.name)}); !b) {
      conn.Rollback();
      return b;
    }
    if (auto r = (*stmt)->Run(); !r) {
      conn.Rollback();
      return Fail(r.error());
    }
    spdlog::info("applied migration {}", m.name);
  }
  return conn.Commit();
}

}  // namespace vectorize::storage
