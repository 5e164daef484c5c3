#pragma once
// A thin RAII layer over libpq: a Connection (parameterised queries with text-format parameters,
// a per-connection cache of prepared statements, transactions), Rows (a query's result, read as
// text and converted), and Pool (a bounded set of connections shared by threads, with blocking
// acquire and reconnect of broken connections).
//
// Errors map to the project's codes: the server unreachable or the connection lost → unavailable;
// unique violation (23505) → already_exists; serialization failure / deadlock (40001, 40P01) →
// aborted; anything else → internal. Connection URLs in messages are redacted (no passwords).
// Thread safety: a Connection belongs to one thread at a time (the Pool hands it out); the Pool
// is safe to use from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/redact.h"
#include "storage/sql.h"

struct pg_conn;
struct pg_result;

namespace vectorize::storage::postgres {

// "postgresql://user:secret@host/db?password=x" → "postgresql://user:***@host/db?password=***".

// Whether `url` names a PostgreSQL database (postgres:// or postgresql://).
bool IsPostgresUrl(std::string_view url);

// The rows of one result, every value read from its text form.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* res);
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;

  [[nodiscard]] int size() const;
  [[nodiscard]] bool empty() const { return size() == 0; }
  [[nodiscard]] int columns() const;
  // Rows changed by an INSERT/UPDATE/DELETE (PQcmdTuples).
  [[nodiscard]] std::int64_t affected() const;

  [[nodiscard]] bool IsNull(int row, int col) const;
  [[nodiscard]] std::string Text(int row, int col) const;
  [[nodiscard]] std::int64_t Int(int row, int col) const;
  [[nodiscard]] double Double(int row, int col) const;
  [[nodiscard]] std::optional<std::string> OptText(int row, int col) const;
  [[nodiscard]] std::optional<std::int64_t> OptInt(int row, int col) const;
  [[nodiscard]] std::optional<double> OptDouble(int row, int col) const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> res_;
};

class Connection {
 public:
  struct Options {
    std::string url;            // postgresql://… or a libpq key=value conninfo
    int connect_timeout_s = 5;  // libpq connect_timeout (the URL's own value wins)
    std::string application_name = "vectorize";
    // Run after every (re)connect. Every statement of ours is short and index-driven; a
    // parallel plan's worker start-up costs more than it saves (bare /tasks at 1M: 2–13 ms of
    // execution without workers, 40–80 ms with two on a busy 2-core machine).
    std::string session_sql = "SET max_parallel_workers_per_gather = 0";
  };

  // Connects. Errors: unavailable with the (redacted) URL and libpq's reason.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> Open(const Options& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (simple query protocol).
  [[nodiscard]] Status Exec(std::string_view sql);
  // Runs one statement with $1..$N parameters sent as text. `prepare`: prepare it once per
  // connection and reuse it (for statements run often); otherwise the unnamed statement is used.
  // Parameter types: int64 → int8, double → float8, string → text; NULL → inferred by the
  // server, or text when `null_as_text` (for NULLs the statement may not reference).
  [[nodiscard]] Result<Rows> Query(const std::string& sql, const std::vector<SqlValue>& params,
                                   bool prepare = true, bool null_as_text = false);

  [[nodiscard]] Status Begin();
  [[nodiscard]] Status Commit();
  void Rollback();

  // Whether the connection to the server is up (PQstatus == CONNECTION_OK).
  [[nodiscard]] bool ok() const;
  // Re-establishes a broken connection (PQreset); prepared statements are forgotten.
  [[nodiscard]] Status Reset();
  // The server process serving this connection (PQbackendPID), for tests.
  [[nodiscard]] int backend_pid() const;
  pg_conn* raw() { return conn_; }

 private:
  Connection(pg_conn* conn, std::string redacted_url, std::string session_sql)
      : conn_(conn), redacted_url_(std::move(redacted_url)), session_sql_(std::move(session_sql)) {}
  Status ApplySessionSql();
  Error ResultError(pg_result* res, std::string_view what);

  pg_conn* conn_;
  std::string redacted_url_;
  std::string session_sql_;
  std::unordered_map<std::string, std::string> prepared_;  // sql → statement name
};

// A bounded pool. Acquire() hands out an idle connection (reconnecting it if it broke), opens a
// new one while fewer than `size` exist, or waits up to `acquire_timeout` for one to be returned.
class Pool {
 public:
  struct Options {
    Connection::Options connection;
    int size = 8;
    std::chrono::milliseconds acquire_timeout{5000};
  };

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  explicit Pool(Options options) : options_(std::move(options)) {}
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Errors: unavailable (cannot connect, or no connection free within acquire_timeout).
  [[nodiscard]] Result<Lease> Acquire();

  // Runs fn(Connection&) → Result<T>/Status on a pooled connection. If it fails because the
  // connection broke (server restart, network), the connection is reset and fn runs once more
  // when `retry_if_broken` (fn must then be safe to repeat: a read, or a transaction that never
  // reached COMMIT).
  template <typename Fn>
  auto Run(Fn&& fn, bool retry_if_broken = true) -> decltype(fn(std::declval<Connection&>())) {
    auto lease = Acquire();
    if (!lease) return std::unexpected(lease.error());
    auto result = fn(**lease);
    if (!result && retry_if_broken && !(*lease)->ok()) {
      if (auto s = (*lease)->Reset(); !s) return std::unexpected(s.error());
      result = fn(**lease);
    }
    return result;
  }

  const Options& options() const { return options_; }

 private:
  void Release(std::unique_ptr<Connection> conn);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections existing (idle or leased)
};

}  // namespace vectorize::storage::postgres
