#include "storage/postgres/postgres_database.h"

namespace vectorize::storage {

namespace {

Result<Rows> Materialise(Result<postgres::Rows> rows) {
  if (!rows) return Fail(rows.error());
  const int n = rows->size();
  const int columns = rows->columns();
  std::vector<SqlValue> cells;
  cells.reserve(std::size_t(n) * columns);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < columns; ++c) {
      if (rows->IsNull(r, c)) {
        cells.emplace_back(std::monostate{});
      } else {
        cells.emplace_back(rows->Text(r, c));
      }
    }
  }
  return Rows(columns, std::move(cells), rows->affected());
}

class PostgresSession final : public Session {
 public:
  explicit PostgresSession(postgres::Connection& conn) : conn_(conn) {}
  Result<Rows> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    return Materialise(conn_.Query(sql, params, /*prepare=*/true, /*null_as_text=*/true));
  }
  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  postgres::Connection& conn_;
};

}  // namespace

Result<std::unique_ptr<Database>> PostgresDatabase::Open(const std::string& url, int pool_size) {
  postgres::Pool::Options o;
  o.connection.url = url;
  o.connection.application_name = "vectorize-registry";
  o.size = pool_size < 1 ? 1 : pool_size;
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(std::move(o)));
  // Connect now so an unreachable server fails at start with the reason.
  if (auto lease = db->pool_.Acquire(); !lease) return Fail(lease.error());
  return std::unique_ptr<Database>(std::move(db));
}

Result<Rows> PostgresDatabase::Query(const std::string& sql, const std::vector<SqlValue>& params) {
  return Materialise(pool_.Run([&](postgres::Connection& c) {
    return c.Query(sql, params, /*prepare=*/true, /*null_as_text=*/true);
  }));
}

Status PostgresDatabase::Transaction(const std::function<Status(Session&)>& fn) {
  constexpr int kAttempts = 3;
  Status result;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    // A connection that breaks inside fn or at COMMIT is reset and fn runs once more (Pool::Run).
    result = pool_.Run([&](postgres::Connection& c) -> Status {
      if (auto s = c.Begin(); !s) return s;
      PostgresSession session(c);
      Status s = fn(session);
      if (s) s = c.Commit();
      if (!s) c.Rollback();
      return s;
    });
    // Serialization failures and deadlocks: run the whole transaction again.
    if (result || result.error().code != ErrorCode::kAborted) return result;
  }
  return result;
}

}  // namespace vectorize::storage
