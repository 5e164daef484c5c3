#pragma once
// storage::Database on PostgreSQL: statements run on a postgres::Pool (reconnect on a broken
// connection; transactions retried on serialization failures and deadlocks).

#include <memory>
#include <string>

#include "storage/database.h"
#include "storage/postgres/connection.h"

namespace vectorize::storage {

class PostgresDatabase final : public Database {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Database>> Open(const std::string& url,
                                                              int pool_size);

  Result<Rows> Query(const std::string& sql, const std::vector<SqlValue>& params) override;
  Status Transaction(const std::function<Status(Session&)>& fn) override;
  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  explicit PostgresDatabase(postgres::Pool::Options options) : pool_(std::move(options)) {}
  postgres::Pool pool_;
};

}  // namespace vectorize::storage
