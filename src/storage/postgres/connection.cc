#include "storage/postgres/connection.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <variant>

#include "common/redact.h"

namespace vectorize::storage::postgres {

namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat8Oid = 701;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// The error's SQLSTATE mapped to the project's codes.
ErrorCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (state == "40001" || state == "40P01") return ErrorCode::kAborted;
  // connection_exception (08…), admin/crash shutdown, cannot connect now, too many connections.
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// --- Rows

void Rows::Clear::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* res) : res_(res) {}

int Rows::size() const { return res_ ? PQntuples(res_.get()) : 0; }
int Rows::columns() const { return res_ ? PQnfields(res_.get()) : 0; }

std::int64_t Rows::affected() const {
  if (!res_) return 0;
  const char* n = PQcmdTuples(res_.get());
  std::int64_t v = 0;
  if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

bool Rows::IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(res_.get(), row, col),
                     static_cast<size_t>(PQgetlength(res_.get(), row, col)));
}

std::int64_t Rows::Int(int row, int col) const {
  const char* s = PQgetvalue(res_.get(), row, col);
  std::int64_t v = 0;
  std::from_chars(s, s + PQgetlength(res_.get(), row, col), v);
  return v;
}

double Rows::Double(int row, int col) const {
  // from_chars, not strtod: independent of the process locale.
  const char* s = PQgetvalue(res_.get(), row, col);
  double v = 0;
  std::from_chars(s, s + PQgetlength(res_.get(), row, col), v);
  return v;
}

std::optional<std::string> Rows::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

std::optional<std::int64_t> Rows::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

std::optional<double> Rows::OptDouble(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Double(row, col);
}

// --- Connection

Result<std::unique_ptr<Connection>> Connection::Open(const Options& options) {
  const std::string timeout = std::to_string(options.connect_timeout_s);
  // Later keywords override earlier ones: the URL's own settings win over these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), "UTF8",
                          options.url.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  const std::string redacted = RedactUrl(options.url);
  if (conn == nullptr) {
    return Fail(
        Error::Unavailable("cannot connect to PostgreSQL at " + redacted + ": out of memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    return Fail(Error::Unavailable("cannot connect to PostgreSQL at " + redacted + ": " + why));
  }
  // Server notices ("relation … already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> c(new Connection(conn, redacted, options.session_sql));
  if (auto s = c->ApplySessionSql(); !s) return Fail(s.error());
  return c;
}

Status Connection::ApplySessionSql() {
  if (session_sql_.empty()) return {};
  return Exec(session_sql_);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

bool Connection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

int Connection::backend_pid() const { return PQbackendPID(conn_); }

Status Connection::Reset() {
  prepared_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Fail(Error::Unavailable("cannot reconnect to PostgreSQL at " + redacted_url_ + ": " +
                                   Trim(PQerrorMessage(conn_))));
  }
  return ApplySessionSql();
}

Error Connection::ResultError(pg_result* res, std::string_view what) {
  if (res == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return Error::Unavailable(fmt::format("{}: lost the connection to PostgreSQL at {}: {}", what,
                                          redacted_url_, Trim(PQerrorMessage(conn_))));
  }
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state ? state : "";
  std::string message = Trim(PQresultErrorMessage(res));
  if (message.empty()) message = Trim(PQerrorMessage(conn_));
  return Error{CodeForSqlState(sqlstate),
               fmt::format("{}: {}{}", what, message,
                           sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"),
               {},
               {}};
}

Status Connection::Exec(std::string_view sql) {
  std::unique_ptr<pg_result, void (*)(pg_result*)> res(PQexec(conn_, std::string(sql).c_str()),
                                                       PQclear);
  const auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    return Fail(ResultError(res.get(), "PostgreSQL statement failed"));
  }
  return {};
}

Result<Rows> Connection::Query(const std::string& sql, const std::vector<SqlValue>& params,
                               bool prepare, bool null_as_text) {
  const int n = static_cast<int>(params.size());
  std::vector<std::string> text(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<Oid> types(params.size(), 0);
  for (int i = 0; i < n; ++i) {
    const SqlValue& v = params[static_cast<size_t>(i)];
    const auto k = static_cast<size_t>(i);
    if (const auto* iv = std::get_if<std::int64_t>(&v)) {
      text[k] = std::to_string(*iv);
      types[k] = kInt8Oid;
    } else if (const auto* dv = std::get_if<double>(&v)) {
      text[k] = fmt::format("{}", *dv);
      types[k] = kFloat8Oid;
    } else if (const auto* sv = std::get_if<std::string>(&v)) {
      text[k] = *sv;
      types[k] = kTextOid;
    } else {
      types[k] = null_as_text ? kTextOid : 0;
      continue;
    }
    values[k] = text[k].c_str();
  }

  pg_result* raw = nullptr;
  if (prepare) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "vz" + std::to_string(prepared_.size() + 1);
      pg_result* p = PQprepare(conn_, name.c_str(), sql.c_str(), n, types.data());
      if (p == nullptr || PQresultStatus(p) != PGRES_COMMAND_OK) {
        Error e = ResultError(p, "preparing a PostgreSQL statement failed");
        PQclear(p);
        return Fail(std::move(e));
      }
      PQclear(p);
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    raw = PQexecPrepared(conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0);
  } else {
    raw = PQexecParams(conn_, sql.c_str(), n, types.data(), values.data(), nullptr, nullptr, 0);
  }
  Rows rows(raw);
  const auto st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Fail(ResultError(raw, "PostgreSQL query failed"));
  }
  return rows;
}

Status Connection::Begin() { return Exec("BEGIN"); }
Status Connection::Commit() { return Exec("COMMIT"); }
void Connection::Rollback() {
  if (ok() && PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)Exec("ROLLBACK");
}

// --- Pool

Pool::~Pool() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

Result<Pool::Lease> Pool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      if (!conn->ok()) {
        if (auto s = conn->Reset(); !s) {
          lock.lock();
          --open_;
          cv_.notify_one();
          return Fail(s.error());
        }
      }
      return Lease(this, std::move(conn));
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      auto conn = Connection::Open(options_.connection);
      if (!conn) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return Fail(conn.error());
      }
      return Lease(this, std::move(*conn));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return Fail(Error::Unavailable(
          fmt::format("no PostgreSQL connection became free within {} ms (pool of {})",
                      options_.acquire_timeout.count(), options_.size)));
    }
  }
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  // Never hand out a connection in the middle of a transaction.
  if (conn->ok() && PQtransactionStatus(conn->raw()) != PQTRANS_IDLE) conn->Rollback();
  std::lock_guard lock(mu_);
  if (conn->ok()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // broken: the next Acquire opens a fresh one
  }
  cv_.notify_one();
}

}  // namespace vectorize::storage::postgres
