// RequestCounter on a real database: SQLite always, PostgreSQL when VECTORIZE_TEST_PG_URL is set
// (in a schema of its own).
#include "embeddings/request_counter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "storage/migrations.h"
#include "storage/postgres/connection.h"

namespace vectorize::embeddings {
namespace {

using storage::Dialect;
constexpr Micros kDay = 24 * kMicrosPerHour;
// 2025-06-29T12:00:00Z
constexpr Micros kJune29 = 1751198400LL * kMicrosPerSecond;

class RequestCounterTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::random_device rd;
    const std::string unique = std::to_string(rd()) + "_" + std::to_string(rd());
    std::string url;
    if (GetParam() == Dialect::kSqlite) {
      path_ = std::filesystem::temp_directory_path() / ("vz_counter_test_" + unique + ".db");
      url = "sqlite://" + path_.string();
    } else {
      const char* base = std::getenv("VECTORIZE_TEST_PG_URL");
      if (base == nullptr || *base == '\0') GTEST_SKIP() << "VECTORIZE_TEST_PG_URL is not set";
      base_ = base;
      schema_ = "vz_counter_test_" + unique;
      auto admin = storage::postgres::Connection::Open({base_});
      ASSERT_TRUE(admin) << admin.error().message;
      ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA " + schema_));
      url = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
            "options=-csearch_path%3D" + schema_;
    }
    auto db = storage::Database::Open(url, 2);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    // The table exactly as migration 0004 of this dialect creates it.
    auto migrations = GetParam() == Dialect::kSqlite ? storage::SqliteMigrations()
                                                     : storage::PostgresMigrations();
    bool found = false;
    for (const auto& m : migrations) {
      if (m.version != 4) continue;
      found = true;
      auto r = db_->Query(std::string(m.sql));
      ASSERT_TRUE(r) << r.error().message;
    }
    ASSERT_TRUE(found) << "migration 0004 is missing";
  }
  void TearDown() override {
    db_.reset();
    if (!path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path_.string() + suffix);
    }
    if (!schema_.empty()) {
      auto admin = storage::postgres::Connection::Open({base_});
      if (admin) (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }

  std::filesystem::path path_;
  std::string base_, schema_;
  std::unique_ptr<storage::Database> db_;
};

TEST(DayTest, DaysAreUtcCalendarDays) {
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(DayOf(kJune29)), "2025-06-29");
  EXPECT_EQ(FormatDay(DayOf(kJune29 + 12 * kMicrosPerHour - 1)), "2025-06-29");
  EXPECT_EQ(FormatDay(DayOf(kJune29 + 12 * kMicrosPerHour)), "2025-06-30");
  EXPECT_EQ(FormatDay(DayOf(-1)), "1969-12-31");
  EXPECT_EQ(FormatDay(DayOf(1709164800LL * kMicrosPerSecond)), "2024-02-29");
}

TEST_P(RequestCounterTest, CountsPerDayWithZerosAndPendingCounts) {
  RequestCounter counter(*db_, std::chrono::hours(1));
  counter.Record("m1", kJune29);
  counter.Record("m1", kJune29 + kMicrosPerHour);
  counter.Record("m1", kJune29 + 2 * kDay);
  counter.Record("m2", kJune29);  // another model does not leak in
  auto days = counter.PerDay("m1", kJune29 - kDay, kJune29 + 2 * kDay);
  ASSERT_TRUE(days) << days.error().message;
  using Days = std::vector<std::pair<std::string, std::int64_t>>;
  const Days expect = {{"2025-06-28", 0}, {"2025-06-29", 2}, {"2025-06-30", 0}, {"2025-07-01", 1}};
  EXPECT_EQ(*days, expect);  // before any flush: from memory
  ASSERT_TRUE(counter.Flush());
  EXPECT_EQ(*counter.PerDay("m1", kJune29 - kDay, kJune29 + 2 * kDay), expect);  // from the table
  counter.Record("m1", kJune29);  // stored + pending add up
  auto mixed = counter.PerDay("m1", kJune29, kJune29);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(*mixed, (Days{{"2025-06-29", 3}}));
}

TEST_P(RequestCounterTest, FlushAddsToStoredCountsAndStopFlushes) {
  {
    RequestCounter counter(*db_, std::chrono::hours(1));
    counter.Start();
    for (int i = 0; i < 5; ++i) counter.Record("m", kJune29);
    ASSERT_TRUE(counter.Flush());
    for (int i = 0; i < 2; ++i) counter.Record("m", kJune29);
    counter.Stop();  // the last two reach the table
  }
  auto rows =
      db_->Query("SELECT requests FROM embedding_counter WHERE model_id = $1", {std::string("m")});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->Int(0, 0), 7);
  // A second process (another counter on the same database) adds up.
  RequestCounter other(*db_, std::chrono::hours(1));
  other.Record("m", kJune29);
  ASSERT_TRUE(other.Flush());
  EXPECT_EQ((*other.PerDay("m", kJune29, kJune29))[0].second, 8);
}

TEST_P(RequestCounterTest, PeriodicFlushWritesWithoutBeingAsked) {
  RequestCounter counter(*db_, std::chrono::milliseconds(20));
  counter.Start();
  counter.Record("m", kJune29);
  for (int i = 0; i < 200; ++i) {
    auto rows = db_->Query("SELECT requests FROM embedding_counter WHERE model_id = 'm'");
    ASSERT_TRUE(rows);
    if (rows->size() == 1) {
      EXPECT_EQ(rows->Int(0, 0), 1);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "the count never reached the table";
}

TEST_P(RequestCounterTest, FailedFlushKeepsCounts) {
  RequestCounter counter(*db_, std::chrono::hours(1));
  counter.Record("m", kJune29);
  ASSERT_TRUE(db_->Query("ALTER TABLE embedding_counter RENAME TO embedding_counter_away"));
  EXPECT_FALSE(counter.Flush());
  ASSERT_TRUE(db_->Query("ALTER TABLE embedding_counter_away RENAME TO embedding_counter"));
  ASSERT_TRUE(counter.Flush());
  auto rows = db_->Query("SELECT requests FROM embedding_counter");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->Int(0, 0), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, RequestCounterTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& info) {
                           return info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace vectorize::embeddings
