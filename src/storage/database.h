#pragma once
// A small dialect-neutral SQL facade for the registries that sit beside the task tables
// (datasets, models, embedding counters): write a statement once, run it on SQLite or
// PostgreSQL. The task store keeps its own tuned layer; this one favours plainness.
//
// Statements use $1..$N placeholders (rewritten to ?N for SQLite) and portable SQL only:
// INSERT … RETURNING, INSERT … ON CONFLICT, LIMIT/OFFSET, integer microsecond times (INTEGER on
// SQLite, BIGINT on PostgreSQL), TEXT, DOUBLE PRECISION/REAL, 0/1 integers for booleans.
// Results are materialised (registries read pages, not millions of rows).
//
// Schema changes go in storage/migrations/{sqlite,postgres}/NNNN_name.sql; the task store applies
// them when it opens (migrate_on_start) or `vectorize migrate` does.
//
// Errors: unavailable (database unreachable, busy beyond the timeout), already_exists (unique
// violation), aborted (serialization failure/deadlock after retries), internal (anything else).
// Thread safety: Database is safe from any number of threads; a Session belongs to the thread
// running the transaction that handed it out.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "storage/sql.h"

namespace vectorize::storage {

// The rows of one result. Values keep the type the driver reported (SQLite) or their text form
// (PostgreSQL); the accessors convert, so callers read Int/Text/Double regardless of backend.
class Rows {
 public:
  Rows() = default;
  Rows(int columns, std::vector<SqlValue> cells, std::int64_t affected)
      : columns_(columns), cells_(std::move(cells)), affected_(affected) {}

  [[nodiscard]] int size() const { return columns_ == 0 ? 0 : int(cells_.size()) / columns_; }
  [[nodiscard]] bool empty() const { return size() == 0; }
  [[nodiscard]] int columns() const { return columns_; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  [[nodiscard]] std::int64_t affected() const { return affected_; }

  [[nodiscard]] bool IsNull(int row, int col) const;
  [[nodiscard]] std::int64_t Int(int row, int col) const;  // NULL → 0
  [[nodiscard]] double Double(int row, int col) const;     // NULL → 0
  [[nodiscard]] std::string Text(int row, int col) const;  // NULL → ""
  [[nodiscard]] std::optional<std::int64_t> OptInt(int row, int col) const;
  [[nodiscard]] std::optional<double> OptDouble(int row, int col) const;
  [[nodiscard]] std::optional<std::string> OptText(int row, int col) const;

 private:
  const SqlValue& At(int row, int col) const { return cells_[std::size_t(row) * columns_ + col]; }
  int columns_ = 0;
  std::vector<SqlValue> cells_;
  std::int64_t affected_ = 0;
};

// One connection inside a transaction.
class Session {
 public:
  virtual ~Session() = default;
  [[nodiscard]] virtual Result<Rows> Query(const std::string& sql,
                                           const std::vector<SqlValue>& params = {}) = 0;
  [[nodiscard]] virtual Dialect dialect() const = 0;
};

class Database {
 public:
  virtual ~Database() = default;

  // "sqlite:///path.db" (or any URL SqlitePathFromUrl accepts) or "postgresql://…".
  // `pool_size` connections at most. Does not migrate.
  [[nodiscard]] static Result<std::unique_ptr<Database>> Open(const std::string& url,
                                                              int pool_size = 4);

  // One statement in its own transaction (autocommit).
  [[nodiscard]] virtual Result<Rows> Query(const std::string& sql,
                                           const std::vector<SqlValue>& params = {}) = 0;

  // Runs fn inside one transaction: committed when fn returns ok, rolled back when it returns an
  // error (which is passed through). SQLite: BEGIN IMMEDIATE (writers queue on the busy timeout).
  // PostgreSQL: READ COMMITTED; fn runs again (up to 3 times) after a serialization failure or
  // deadlock, and once more if the connection broke before COMMIT — so fn must not have effects
  // outside the database that cannot be repeated.
  [[nodiscard]] virtual Status Transaction(const std::function<Status(Session&)>& fn) = 0;

  [[nodiscard]] virtual Dialect dialect() const = 0;
};

}  // namespace vectorize::storage
