#pragma once
// storage::Database on SQLite: a small pool of connections to one file (WAL lets readers run
// beside the one writer; writers queue on the busy timeout).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/sqlite/connection.h"

namespace vectorize::storage {

class SqliteDatabase final : public Database {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                              int pool_size);

  Result<Rows> Query(const std::string& sql, const std::vector<SqlValue>& params) override;
  Status Transaction(const std::function<Status(Session&)>& fn) override;
  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  SqliteDatabase(std::string path, int pool_size) : path_(std::move(path)), size_(pool_size) {}
  Result<std::unique_ptr<sqlite::Connection>> Acquire();
  void Release(std::unique_ptr<sqlite::Connection> conn);

  std::string path_;
  int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_;
  int open_ = 0;
};

// Runs one statement on a connection and materialises its rows (shared with the session).
Result<Rows> RunSqlite(sqlite::Connection& conn, const std::string& sql,
                       const std::vector<SqlValue>& params);

}  // namespace vectorize::storage
