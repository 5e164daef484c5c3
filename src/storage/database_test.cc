// storage::Database on both backends: the same statements, the same results. The PostgreSQL
// half runs in a schema of its own on VECTORIZE_TEST_PG_URL and is skipped without it.
#include "storage/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "storage/postgres/connection.h"

namespace vectorize::storage {
namespace {

class DatabaseTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::random_device rd;
    const std::string unique = std::to_string(rd()) + "_" + std::to_string(rd());
    if (GetParam() == Dialect::kSqlite) {
      path_ = std::filesystem::temp_directory_path() / ("vz_db_test_" + unique + ".db");
      url_ = "sqlite://" + path_.string();
    } else {
      const char* base = std::getenv("VECTORIZE_TEST_PG_URL");
      if (base == nullptr || *base == '\0') GTEST_SKIP() << "VECTORIZE_TEST_PG_URL is not set";
      base_ = base;
      schema_ = "vz_db_test_" + unique;
      auto admin = postgres::Connection::Open({base_});
      ASSERT_TRUE(admin) << admin.error().message;
      ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA " + schema_));
      url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + schema_;
    }
    auto db = Database::Open(url_, 4);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    const std::string bigint = GetParam() == Dialect::kSqlite ? "INTEGER" : "BIGINT";
    ASSERT_TRUE(
        db_->Query("CREATE TABLE item (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                   "n " +
                   bigint + " NOT NULL, score DOUBLE PRECISION, note TEXT)"));
  }
  void TearDown() override {
    db_.reset();
    if (!path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path_.string() + suffix);
      }
    }
    if (!schema_.empty()) {
      auto admin = postgres::Connection::Open({base_});
      if (admin) (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }

  std::filesystem::path path_;
  std::string base_, schema_, url_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, InsertReturningAndTypedReads) {
  EXPECT_EQ(db_->dialect(), GetParam());
  auto ins = db_->Query(
      "INSERT INTO item (id, name, n, score, note) VALUES ($1, $2, $3, $4, $5) RETURNING id, n",
      {std::string("a"), std::string("héllo ✓"), std::int64_t{1} << 40, 0.5, std::monostate{}});
  ASSERT_TRUE(ins) << ins.error().message;
  ASSERT_EQ(ins->size(), 1);
  EXPECT_EQ(ins->Text(0, 0), "a");
  EXPECT_EQ(ins->Int(0, 1), std::int64_t{1} << 40);

  auto rows = db_->Query("SELECT name, n, score, note FROM item WHERE id = $1", {std::string("a")});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->columns(), 4);
  EXPECT_EQ(rows->Text(0, 0), "héllo ✓");
  EXPECT_EQ(rows->Int(0, 1), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(rows->Double(0, 2), 0.5);
  EXPECT_EQ(rows->Text(0, 2), "0.5");  // a REAL read as text is the same on both backends
  EXPECT_TRUE(rows->IsNull(0, 3));
  EXPECT_EQ(rows->OptText(0, 3), std::nullopt);
  EXPECT_EQ(rows->OptInt(0, 1), std::int64_t{1} << 40);

  auto none = db_->Query("SELECT name FROM item WHERE id = $1", {std::string("zz")});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExistsAndUpsertWorks) {
  const std::string ins = "INSERT INTO item (id, name, n) VALUES ($1, $2, $3)";
  ASSERT_TRUE(db_->Query(ins, {std::string("a"), std::string("x"), std::int64_t{1}}));
  auto dup = db_->Query(ins, {std::string("b"), std::string("x"), std::int64_t{1}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().message;

  auto up = db_->Query(
      "INSERT INTO item (id, name, n) VALUES ($1, $2, $3) "
      "ON CONFLICT (id) DO UPDATE SET n = item.n + excluded.n",
      {std::string("a"), std::string("x"), std::int64_t{5}});
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->affected(), 1);
  auto n = db_->Query("SELECT n FROM item WHERE id = 'a'");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->Int(0, 0), 6);
}

TEST_P(DatabaseTest, TransactionCommitsOrRollsBackAsAWhole) {
  auto ok = db_->Transaction([](Session& s) -> Status {
    for (int i = 0; i < 3; ++i) {
      auto r = s.Query("INSERT INTO item (id, name, n) VALUES ($1, $1, $2)",
                       {std::to_string(i), std::int64_t{i}});
      if (!r) return Fail(r.error());
    }
    return {};
  });
  ASSERT_TRUE(ok) << ok.error().message;

  auto failed = db_->Transaction([](Session& s) -> Status {
    auto r = s.Query("INSERT INTO item (id, name, n) VALUES ('9', '9', 9)");
    if (!r) return Fail(r.error());
    return Fail(Error::InvalidArgument("changed my mind"));
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "changed my mind");

  auto conflict = db_->Transaction([](Session& s) -> Status {
    auto r = s.Query("INSERT INTO item (id, name, n) VALUES ('8', '8', 8)");
    if (!r) return Fail(r.error());
    auto dup = s.Query("INSERT INTO item (id, name, n) VALUES ('0', 'other', 0)");
    if (!dup) return Fail(dup.error());
    return {};
  });
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kAlreadyExists);

  auto count = db_->Query("SELECT count(*) FROM item");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->Int(0, 0), 3);  // neither '9' nor '8' landed
}

TEST_P(DatabaseTest, ConcurrentIncrementsInTransactionsLoseNothing) {
  ASSERT_TRUE(db_->Query("INSERT INTO item (id, name, n) VALUES ('c', 'c', 0)"));
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto s = db_->Transaction([](Session& s) -> Status {
          auto r = s.Query("UPDATE item SET n = n + 1 WHERE id = 'c'");
          if (!r) return Fail(r.error());
          return {};
        });
        if (!s) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto n = db_->Query("SELECT n FROM item WHERE id = 'c'");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->Int(0, 0), kThreads * kEach);
}

TEST(DatabaseOpenTest, RejectsUnknownSchemesAndUnreachableServers) {
  auto bad = Database::Open("mysql://h/db");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto down = Database::Open("postgresql://u:pw@127.0.0.1:1/db");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(down.error().message.find("pw@"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backend, DatabaseTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& info) {
                           return info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace vectorize::storage
