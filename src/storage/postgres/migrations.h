#pragma once
// Applies the embedded PostgreSQL migrations (PostgresMigrations(), from
// src/storage/migrations/postgres/NNNN_name.sql). Each pending migration runs in its own
// transaction that first takes a transaction-scoped advisory lock, so any number of processes
// starting together apply each migration exactly once: the others wait, then see it recorded in
// schema_migrations and skip it.
// Thread safety: one Connection per call, as for any Connection use.

#include "common/error.h"
#include "storage/postgres/connection.h"

namespace vectorize::storage::postgres {

// The advisory lock key migrations take (pg_advisory_xact_lock): "vzmigrat" as an int64.
inline constexpr std::int64_t kMigrationLockKey = 0x767a6d6967726174;

// Applies every pending migration. Errors: internal with the failing migration's name;
// failed_precondition when the database is newer than this binary; unavailable.
[[nodiscard]] Status Migrate(Connection& conn);

// The highest applied version (0 for an empty database, even without schema_migrations).
[[nodiscard]] Result<int> SchemaVersion(Connection& conn);

}  // namespace vectorize::storage::postgres
