// The libpq layer and the PostgreSQL migrations runner. Tests that need a server use the one of
// VECTORIZE_TEST_PG_URL (each in a schema of its own) and are skipped without it; see
// scripts/test-postgres.sh.
#include "storage/postgres/connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "storage/migrations.h"
#include "storage/postgres/migrations.h"

namespace vectorize::storage::postgres {
namespace {

TEST(PgRedactTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("postgres://u:p@ss/w@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("postgresql://h/db?user=u&password=secret&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=h password=secret user=u"), "host=h password=*** user=u");
  EXPECT_EQ(RedactUrl("host=h password='se cret' user=u"), "host=h password=*** user=u");
  EXPECT_TRUE(IsPostgresUrl("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:///x.db"));
}

TEST(PgConnectionTest, UnreachableServerFailsFastWithoutThePassword) {
  const auto start = std::chrono::steady_clock::now();
  // Port 1 on localhost: refused at once.
  auto conn = Connection::Open({"postgresql://vz:s3cr3t@127.0.0.1:1/db"});
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(conn.error().message.find("s3cr3t"), std::string::npos) << conn.error().message;
  EXPECT_NE(conn.error().message.find("vz:***@127.0.0.1:1"), std::string::npos)
      << conn.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// A schema of its own on the test server, selected through the URL's search_path.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("VECTORIZE_TEST_PG_URL");
    if (base == nullptr || *base == '\0') {
      GTEST_SKIP() << "VECTORIZE_TEST_PG_URL is not set: PostgreSQL tests skipped. Start a "
                      "private server with `eval \"$(scripts/test-postgres.sh)\"`.";
    }
    base_ = base;
    std::random_device rd;
    schema_ = "vz_test_" + std::to_string(rd()) + "_" + std::to_string(rd());
    url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_ + "&application_name=" + schema_;
    auto admin = Connection::Open({base_});
    ASSERT_TRUE(admin) << admin.error().message;
    ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA " + schema_));
  }
  void TearDown() override {
    if (schema_.empty()) return;
    auto admin = Connection::Open({base_});
    if (admin) (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }
  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open({url_});
    EXPECT_TRUE(conn) << conn.error().message;
    return conn ? std::move(*conn) : nullptr;
  }
  std::string base_, schema_, url_;
};

TEST_F(PgTest, SessionSettingsApplyAfterConnectAndAfterReset) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto show = [&] {
    auto rows = conn->Query("SHOW max_parallel_workers_per_gather", {}, /*prepare=*/false);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? rows->Text(0, 0) : std::string();
  };
  EXPECT_EQ(show(), "0");
  ASSERT_TRUE(conn->Exec("SET max_parallel_workers_per_gather = 3"));
  EXPECT_EQ(show(), "3");
  ASSERT_TRUE(conn->Reset());
  EXPECT_EQ(show(), "0");
}

TEST_F(PgTest, ParametersAndResults) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto rows = conn->Query("SELECT $1::bigint + 1, $2 || '!', $3 * 2, $4::text IS NULL",
                          {std::int64_t{41}, std::string("hé"), 0.25, std::monostate{}});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->Int(0, 0), 42);
  EXPECT_EQ(rows->Text(0, 1), "hé!");
  EXPECT_EQ(rows->Double(0, 2), 0.5);
  EXPECT_EQ(rows->Text(0, 3), "t");
  // Prepared once, reused.
  for (int i = 0; i < 3; ++i) {
    auto again = conn->Query("SELECT $1::bigint * 2", {std::int64_t{i}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->Int(0, 0), 2 * i);
  }
}

TEST_F(PgTest, ErrorsMapToCodes) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  ASSERT_TRUE(conn->Query("INSERT INTO t VALUES ($1)", {std::string("a")}));
  auto dup = conn->Query("INSERT INTO t VALUES ($1)", {std::string("a")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().message;
  auto bad = conn->Query("SELECT * FROM no_such_table", {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  auto ser = conn->Exec("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$");
  ASSERT_FALSE(ser);
  EXPECT_EQ(ser.error().code, ErrorCode::kAborted);
  // The connection stays usable after errors.
  EXPECT_TRUE(conn->Query("SELECT 1", {}));
}

TEST_F(PgTest, PoolIsBoundedAndTimesOut) {
  Pool pool({{url_}, 2, std::chrono::milliseconds(150)});
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a && b);
  const auto start = std::chrono::steady_clock::now();
  auto c = pool.Acquire();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(140));
  // A returned connection is handed to a waiter.
  std::thread releaser([lease = std::move(*a)]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto drop = std::move(lease);
  });
  auto d = pool.Acquire();
  releaser.join();
  EXPECT_TRUE(d);
}

TEST_F(PgTest, PoolReconnectsAfterTheServerDropsConnections) {
  Pool pool({{url_}, 2, std::chrono::milliseconds(1000)});
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease);
    ASSERT_TRUE((*lease)->Query("SELECT 1", {}));
  }
  auto admin = Connection::Open({base_});
  ASSERT_TRUE(admin);
  auto killed = (*admin)->Query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
      {schema_});
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_EQ(killed->Int(0, 0), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = pool.Run([](Connection& conn) -> Result<std::int64_t> {
    auto rows = conn.Query("SELECT 7", {});
    if (!rows) return Fail(rows.error());
    return rows->Int(0, 0);
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 7);
}

TEST_F(PgTest, MigrationsApplyOnceUnderConcurrentStarters) {
  std::vector<std::thread> threads;
  std::vector<Status> results(6);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto conn = Connection::Open({url_});
      if (!conn) {
        results[i] = Fail(conn.error());
        return;
      }
      results[i] = Migrate(**conn);
    });
  }
  for (auto& t : threads) t.join();
  for (auto& r : results) EXPECT_TRUE(r) << r.error().message;
  auto conn = Connect();
  ASSERT_TRUE(conn);
  EXPECT_EQ(SchemaVersion(*conn).value(), PostgresMigrations().back().version);
  auto rows = conn->Query("SELECT count(*), count(DISTINCT version) FROM schema_migrations", {});
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->Int(0, 0), static_cast<std::int64_t>(PostgresMigrations().size()));
  EXPECT_EQ(rows->Int(0, 1), static_cast<std::int64_t>(PostgresMigrations().size()));
  // Every task table exists with its four indexes (plus the primary key).
  for (const char* t : {"model_upload_task", "dataset_upload_task", "training_task",
                        "evaluation_task", "synthesis_task"}) {
    auto n = conn->Query(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1",
        {std::string(t)});
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n->Int(0, 0), 5) << t;
  }
}

TEST_F(PgTest, RefusesNewerDatabase) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  EXPECT_EQ(SchemaVersion(*conn).value(), 0);
  ASSERT_TRUE(Migrate(*conn));
  ASSERT_TRUE(conn->Exec("INSERT INTO schema_migrations VALUES (9999, 'future', 0)"));
  auto s = Migrate(*conn);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(PgTest, SpanClassBucketsLifetimes) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(Migrate(*conn));
  ASSERT_TRUE(conn->Exec(
      "INSERT INTO training_task (id, task_status, created_at, updated_at, run_after, end_date)"
      " VALUES ('a','D',0,0,0,59999999), ('b','D',0,0,0,60000000), ('c','Q',0,0,0,NULL),"
      " ('d','F',0,0,0,99999999999999)"));
  auto rows = conn->Query("SELECT id, span_class FROM training_task ORDER BY id", {});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4);
  EXPECT_EQ(rows->OptInt(0, 1), 0);
  EXPECT_EQ(rows->OptInt(1, 1), 1);
  EXPECT_EQ(rows->OptInt(2, 1), std::nullopt);
  EXPECT_EQ(rows->OptInt(3, 1), 10);
  auto bad = conn->Exec(
      "INSERT INTO training_task (id, task_status, created_at, updated_at, run_after)"
      " VALUES ('e','X',0,0,0)");
  EXPECT_FALSE(bad);
}

}  // namespace
}  // namespace vectorize::storage::postgres
