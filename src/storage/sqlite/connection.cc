#include "storage/sqlite/connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace vectorize::storage::sqlite {

Error SqliteError(sqlite3* db, std::string_view what) {
  const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "no database");
  const int primary = code & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Error::Unavailable(msg);
  if (primary == SQLITE_CONSTRAINT) return Error::AlreadyExists(msg);
  return Error::Internal(msg);
}

sqlite3* Statement::db() const { return sqlite3_db_handle(stmt_); }

Status Statement::Bind(int index, const Value& value) {
  int rc = SQLITE_OK;
  if (std::holds_alternative<std::monostate>(value)) {
    rc = sqlite3_bind_null(stmt_, index);
  } else if (auto* i = std::get_if<std::int64_t>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, *i);
  } else if (auto* d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(stmt_, index, *d);
  } else {
    const auto& s = std::get<std::string>(value);
    rc = sqlite3_bind_text(stmt_, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK) return Fail(SqliteError(db(), "bind"));
  return {};
}

Status Statement::BindAll(const std::vector<Value>& values) {
  Reset();
  // Builders share one parameter list across statement shapes; bind only what this one uses.
  const size_t n =
      std::min(values.size(), static_cast<size_t>(sqlite3_bind_parameter_count(stmt_)));
  for (size_t i = 0; i < n; ++i) {
    if (auto s = Bind(static_cast<int>(i + 1), values[i]); !s) return s;
  }
  return {};
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(db(), "step"));
}

Result<int> Statement::Run() {
  for (;;) {
    auto r = Step();
    if (!r) {
      Reset();
      return Fail(r.error());
    }
    if (!*r) break;
  }
  const int changes = sqlite3_changes(db());
  Reset();
  return changes;
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

Value Statement::Column(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_NULL: return std::monostate{};
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(stmt_, col));
    case SQLITE_FLOAT: return sqlite3_column_double(stmt_, col);
    default: return Text(col);
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::optional<std::int64_t> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
std::optional<double> Statement::OptDouble(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Double(col);
}
std::optional<std::string> Statement::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool read_only) {
  // Memory statistics take a global mutex on every allocation (~80 per task claimed and
  // finished); nothing here reads them. Must precede SQLite's initialisation.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error e = Error::Unavailable("cannot open database " + path + ": " +
                                 (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return Fail(std::move(e));
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes (kill -9)
  // and loses at most the last transactions on power loss.
  const char* pragmas = read_only ? "PRAGMA foreign_keys=ON;"
                                  : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                    "PRAGMA foreign_keys=ON;";
  if (auto s = conn->Exec(pragmas); !s) return Fail(s.error());
  // Reads go through a shared memory map of the file (one copy in the OS page cache for every
  // connection) instead of each connection's private page cache.
  if (auto s = conn->Exec("PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY; "
                          "PRAGMA mmap_size=1073741824;");
      !s) {
    return Fail(s.error());
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt->stmt_);
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Error e = SqliteError(db_, "exec");
    if (err) {
      e.message = std::string("exec: ") + err;
      sqlite3_free(err);
    }
    return Fail(std::move(e));
  }
  return {};
}

Result<Statement*> Connection::Prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  // Bounded: query shapes are finite, but never let a pathological caller grow this forever.
  if (cache_.size() >= 512) {
    for (auto& [k, stmt] : cache_) sqlite3_finalize(stmt->stmt_);
    cache_.clear();
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Fail(SqliteError(db_, "prepare"));
  }
  auto [it, _] = cache_.emplace(sql, std::make_unique<Statement>(stmt));
  return it->second.get();
}

Status Connection::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status Connection::Commit() { return Exec("COMMIT"); }
void Connection::Rollback() { (void)Exec("ROLLBACK"); }
int Connection::Changes() const { return sqlite3_changes(db_); }

std::optional<std::string> SqlitePathFromUrl(std::string_view url) {
  constexpr std::string_view kScheme = "sqlite:";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  if (url.starts_with("//")) url.remove_prefix(2);  // sqlite:///abs → /abs; sqlite://rel → rel
  if (url.empty()) return std::nullopt;
  return std::string(url);
}

std::string ToSqlitePlaceholders(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

}  // namespace vectorize::storage::sqlite
