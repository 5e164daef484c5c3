#include "storage/migrations.h"

#include <gtest/gtest.h>

namespace vectorize::storage {
namespace {

TEST(MigrationsTest, VersionsAreStrictlyIncreasingFromOne) {
  auto ms = SqliteMigrations();
  ASSERT_FALSE(ms.empty());
  EXPECT_EQ(ms.front().version, 1);
  for (size_t i = 1; i < ms.size(); ++i) EXPECT_EQ(ms[i].version, ms[i - 1].version + 1);
}

TEST(MigrationsTest, AppliesOnceAndIsIdempotent) {
  auto conn = sqlite::Connection::Open(":memory:");
  ASSERT_TRUE(conn);
  EXPECT_EQ(SqliteSchemaVersion(**conn).value(), 0);
  ASSERT_TRUE(MigrateSqlite(**conn));
  const int v = SqliteSchemaVersion(**conn).value();
  EXPECT_EQ(v, SqliteMigrations().back().version);
  ASSERT_TRUE(MigrateSqlite(**conn));  // second run changes nothing
  EXPECT_EQ(SqliteSchemaVersion(**conn).value(), v);
  // Every task table exists with its indexes.
  for (const char* t : {"model_upload_task", "dataset_upload_task", "training_task",
                        "evaluation_task", "synthesis_task"}) {
    auto stmt =
        (*conn)->Prepare(std::string("SELECT count(*) FROM sqlite_master WHERE tbl_name = '") + t +
                         "' AND type = 'index' AND sql IS NOT NULL");
    ASSERT_TRUE(stmt);
    ASSERT_TRUE((*stmt)->Step().value());
    EXPECT_EQ((*stmt)->Int(0), 4) << t;
    (*stmt)->Reset();
  }
}

TEST(MigrationsTest, RefusesNewerDatabase) {
  auto conn = sqlite::Connection::Open(":memory:");
  ASSERT_TRUE(conn);
  ASSERT_TRUE(MigrateSqlite(**conn));
  ASSERT_TRUE((*conn)->Exec("INSERT INTO schema_migrations VALUES (9999, 'future', 0)"));
  auto s = MigrateSqlite(**conn);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
}

TEST(MigrationsTest, SpanClassBucketsLifetimes) {
  auto conn = sqlite::Connection::Open(":memory:");
  ASSERT_TRUE(conn);
  ASSERT_TRUE(MigrateSqlite(**conn));
  ASSERT_TRUE((*conn)->Exec(
      "INSERT INTO training_task (id, task_status, created_at, updated_at, run_after, end_date)"
      " VALUES ('a','D',0,0,0,59999999), ('b','D',0,0,0,60000000), ('c','Q',0,0,0,NULL),"
      " ('d','F',0,0,0,99999999999999)"));
  auto stmt = (*conn)->Prepare("SELECT id, span_class FROM training_task ORDER BY id");
  ASSERT_TRUE(stmt);
  std::vector<std::pair<std::string, std::optional<std::int64_t>>> got;
  while ((*stmt)->Step().value()) got.emplace_back((*stmt)->Text(0), (*stmt)->OptInt(1));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].second, 0);
  EXPECT_EQ(got[1].second, 1);
  EXPECT_EQ(got[2].second, std::nullopt);
  EXPECT_EQ(got[3].second, 10);
}

}  // namespace
}  // namespace vectorize::storage
