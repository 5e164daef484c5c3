#include "storage/postgres/migrations.h"

#include <spdlog/spdlog.h>

#include <string>

#include "storage/migrations.h"

namespace vectorize::storage::postgres {

namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
constexpr const char* kSelectVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)";
constexpr const char* kLock = "SELECT pg_advisory_xact_lock($1)";

Result<int> VersionIn(Connection& conn) {
  auto rows = conn.Query(kSelectVersion, {}, /*prepare=*/false);
  if (!rows) return Fail(rows.error());
  return static_cast<int>(rows->Int(0, 0));
}

// One transaction: lock, (create the bookkeeping table,) read the version, and apply `m` if it
// is the next one. Returns the version found before applying.
Result<int> ApplyOne(Connection& conn, const Migration* m, int latest) {
  if (auto s = conn.Begin(); !s) return Fail(s.error());
  auto fail = [&](Error e) -> Result<int> {
    conn.Rollback();
    return Fail(std::move(e));
  };
  if (auto r = conn.Query(kLock, {kMigrationLockKey}, false); !r) return fail(r.error());
  if (auto s = conn.Exec(kCreateMigrationsTable); !s) return fail(s.error());
  auto current = VersionIn(conn);
  if (!current) return fail(current.error());
  if (*current > latest) {
    return fail(Error::FailedPrecondition("database schema version " + std::to_string(*current) +
                                          " is newer than this binary understands (" +
                                          std::to_string(latest) + ")"));
  }
  if (m != nullptr && m->version == *current + 1) {
    if (auto s = conn.Exec(m->sql); !s) {
      return fail(Error{s.error().code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable
                                                                  : ErrorCode::kInternal,
                        "migration " + std::string(m->name) + " failed: " + s.error().message,
                        {},
                        {}});
    }
    if (auto r =
            conn.Query(kRecordMigration, {std::int64_t{m->version}, std::string(m->name)}, false);
        !r) {
      return fail(r.error());
    }
  }
  if (auto s = conn.Commit(); !s) return fail(s.error());
  if (m != nullptr && m->version == *current + 1) spdlog::info("applied migration {}", m->name);
  return *current;
}

}  // namespace

Result<int> SchemaVersion(Connection& conn) {
  auto exists = conn.Query("SELECT to_regclass('schema_migrations') IS NOT NULL", {}, false);
  if (!exists) return Fail(exists.error());
  if (exists->Text(0, 0) != "t") return 0;
  return VersionIn(conn);
}

Status Migrate(Connection& conn) {
  auto migrations = PostgresMigrations();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  // Checks the version (and refuses a newer database) even when nothing is pending.
  auto before = ApplyOne(conn, nullptr, latest);
  if (!before) return Fail(before.error());
  for (const Migration& m : migrations) {
    if (m.version <= *before) continue;
    auto r = ApplyOne(conn, &m, latest);
    if (!r) return Fail(r.error());
  }
  return {};
}

}  // namespace vectorize::storage::postgres
