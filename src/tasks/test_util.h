#pragma once
// Helpers shared by the tasks tests: a fresh SQLite store in a temp dir, and the backends of the
// storage contract suite (task_store_test.cc), each giving every test a clean database:
//   SQLite      a new database file in a temp dir;
//   PostgreSQL  a new schema (vz_test_<random>) in the database of VECTORIZE_TEST_PG_URL, made
//               the connections' search_path and dropped afterwards, so tests can run in
//               parallel (ctest -j) against one server. Without VECTORIZE_TEST_PG_URL the
//               PostgreSQL tests are skipped; scripts/test-postgres.sh starts a private server.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "storage/postgres/connection.h"
#include "tasks/postgres/postgres_task_store.h"
#include "tasks/sqlite/sqlite_task_store.h"

namespace vectorize::tasks::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("vz-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<SqliteTaskStore> OpenStore(const TempDir& dir) {
  auto store = SqliteTaskStore::Open({(dir.path() / "vectorize.db").string()});
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(Backend b) { return b == Backend::kSqlite ? "Sqlite" : "Postgres"; }

inline constexpr const char* kPgUrlEnv = "VECTORIZE_TEST_PG_URL";

// The PostgreSQL server of the tests, or "" when none is configured.
inline std::string TestPgUrl() {
  const char* url = std::getenv(kPgUrlEnv);
  return url ? url : "";
}

inline std::string PgSkipMessage() {
  return std::string(kPgUrlEnv) +
         " is not set: PostgreSQL tests skipped. Start a private server with "
         "`eval \"$(scripts/test-postgres.sh)\"` (stop it with "
         "`scripts/test-postgres.sh stop \"$VECTORIZE_TEST_PG_DIR\"`), or run "
         "`scripts/test-postgres.sh run ctest …`.";
}

// A clean PostgreSQL schema for one test; `url()` selects it (search_path) for every connection.
class PgSchema {
 public:
  explicit PgSchema(std::string base_url) : base_url_(std::move(base_url)) {
    std::random_device rd;
    name_ = "vz_test_" + std::to_string(rd()) + "_" + std::to_string(rd());
    url_ = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_;
    auto admin = storage::postgres::Connection::Open({base_url_});
    if (!admin) {
      error_ = admin.error().message;
      return;
    }
    if (auto s = (*admin)->Exec("CREATE SCHEMA " + name_); !s) error_ = s.error().message;
  }
  ~PgSchema() {
    auto admin = storage::postgres::Connection::Open({base_url_});
    if (admin) (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }  // non-empty: the schema could not be made

 private:
  std::string base_url_, name_, url_, error_;
};

// One backend's clean database for one test; Open() may be called again to get a second store
// on the same database, as another process would have.
class StoreEnv {
 public:
  explicit StoreEnv(Backend backend) : backend_(backend) {
    if (backend_ == Backend::kPostgres && !TestPgUrl().empty()) {
      schema_ = std::make_unique<PgSchema>(TestPgUrl());
    }
  }
  Backend backend() const { return backend_; }
  // Empty when the backend can run; otherwise why the test must be skipped.
  std::string SkipReason() const {
    return backend_ == Backend::kPostgres && !schema_ ? PgSkipMessage() : "";
  }
  PgSchema* pg() { return schema_.get(); }

  std::unique_ptr<TaskStore> Open() {
    if (backend_ == Backend::kSqlite) {
      auto store = SqliteTaskStore::Open({(dir_.path() / "vectorize.db").string()});
      EXPECT_TRUE(store) << store.error().message;
      return store ? std::move(*store) : nullptr;
    }
    EXPECT_TRUE(schema_->error().empty()) << schema_->error();
    PostgresTaskStore::Options options;
    options.url = schema_->url();
    auto store = PostgresTaskStore::Open(options);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

 private:
  Backend backend_;
  TempDir dir_;
  std::unique_ptr<PgSchema> schema_;
};

}  // namespace vectorize::tasks::testing
