#pragma once
// Numbered schema migrations. The SQL lives in migrations/<dialect>/NNNN_name.sql and is embedded
// into the binary at build time (see embed_migrations.cmake). Applying is idempotent: each
// migration runs once, in its own transaction, and is recorded in schema_migrations.

#include <span>
#include <string_view>

#include "common/error.h"
#include "storage/sqlite/connection.h"

namespace vectorize::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// In ascending version order.
std::span<const Migration> SqliteMigrations();
// The PostgreSQL dialect of the same schema (applied by storage/postgres/migrations.h).
std::span<const Migration> PostgresMigrations();

// Applies every pending SQLite migration. Errors: internal with the failing migration's name;
// failed_precondition when the database is newer than this binary.
[[nodiscard]] Status MigrateSqlite(sqlite::Connection& conn);

// The highest applied version (0 for an empty database).
[[nodiscard]] Result<int> SqliteSchemaVersion(sqlite::Connection& conn);

}  // namespace vectorize::storage
