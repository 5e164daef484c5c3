#pragma once
// A thin RAII layer over the SQLite C API: a Connection (WAL mode, busy timeout, a cache of
// prepared statements) and Statement (bind by 1-based index, step, read columns).
// Thread safety: a Connection and its Statements belong to one thread at a time; callers share
// connections through a pool or a mutex, never concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/error.h"
#include "storage/sql.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vectorize::storage::sqlite {

using Value = SqlValue;

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds values to ?1..?N in order, after clearing previous bindings and resetting.
  [[nodiscard]] Status BindAll(const std::vector<Value>& values);
  [[nodiscard]] Status Bind(int index, const Value& value);
  // true: a row is available; false: done. Errors: unavailable (busy/locked), internal.
  [[nodiscard]] Result<bool> Step();
  // Runs to completion; returns sqlite3_changes().
  [[nodiscard]] Result<int> Run();
  void Reset();

  [[nodiscard]] bool IsNull(int col) const;
  [[nodiscard]] std::int64_t Int(int col) const;
  [[nodiscard]] double Double(int col) const;
  [[nodiscard]] std::string Text(int col) const;
  [[nodiscard]] std::optional<std::int64_t> OptInt(int col) const;
  [[nodiscard]] std::optional<double> OptDouble(int col) const;
  [[nodiscard]] std::optional<std::string> OptText(int col) const;
  // Columns of the current row, and a column's value in the type SQLite stored it as.
  [[nodiscard]] int ColumnCount() const;
  [[nodiscard]] Value Column(int col) const;

 private:
  friend class Connection;
  sqlite3_stmt* stmt_;
  sqlite3* db() const;
};

class Connection {
 public:
  // Opens (creating if needed) the database file, sets WAL, synchronous=NORMAL, a busy timeout
  // and foreign keys. Errors: unavailable when the file cannot be opened.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                                bool read_only = false);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results.
  [[nodiscard]] Status Exec(std::string_view sql);
  // A prepared statement from the connection's cache (reset, bindings cleared). The reference
  // stays valid for the connection's lifetime.
  [[nodiscard]] Result<Statement*> Prepare(const std::string& sql);

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK.
  [[nodiscard]] Status Begin();
  [[nodiscard]] Status Commit();
  void Rollback();

  [[nodiscard]] int Changes() const;
  sqlite3* raw() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// Maps the last SQLite error of `db` to an Error (busy/locked → unavailable, others → internal).
Error SqliteError(sqlite3* db, std::string_view what);

// "sqlite:///abs/path.db", "sqlite://rel/path.db" or "sqlite:rel.db" → the file path.
// nullopt when the URL is not a sqlite URL.
std::optional<std::string> SqlitePathFromUrl(std::string_view url);

// Rewrites $1..$N placeholders (the dialect-neutral form the query builders emit) into ?1..?N.
std::string ToSqlitePlaceholders(std::string_view sql);

}  // namespace vectorize::storage::sqlite
