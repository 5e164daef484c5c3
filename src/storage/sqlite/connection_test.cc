#include "storage/sqlite/connection.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace vectorize::storage::sqlite {
namespace {

TEST(SqliteUrlTest, PathFromUrl) {
  EXPECT_EQ(SqlitePathFromUrl("sqlite:///var/lib/v.db"), "/var/lib/v.db");
  EXPECT_EQ(SqlitePathFromUrl("sqlite://./data/v.db"), "./data/v.db");
  EXPECT_EQ(SqlitePathFromUrl("sqlite:rel.db"), "rel.db");
  EXPECT_FALSE(SqlitePathFromUrl("postgresql://u@h/db"));
  EXPECT_FALSE(SqlitePathFromUrl("sqlite://"));
}

TEST(SqliteUrlTest, Placeholders) {
  EXPECT_EQ(ToSqlitePlaceholders("a = $1 AND b IN ($2, $10) AND c = '$'"),
            "a = ?1 AND b IN (?2, ?10) AND c = '$'");
}

TEST(ConnectionTest, RoundTripsValuesAndCachesStatements) {
  auto conn = Connection::Open(":memory:");
  ASSERT_TRUE(conn) << conn.error().message;
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (a INTEGER, b REAL, c TEXT)"));
  auto ins = (*conn)->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(ins);
  ASSERT_TRUE((*ins)->BindAll({std::int64_t{42}, 0.5, std::string("x\0y", 3)}));
  EXPECT_EQ((*ins)->Run().value(), 1);
  ASSERT_TRUE((*ins)->BindAll({std::monostate{}, std::monostate{}, std::monostate{}}));
  EXPECT_EQ((*ins)->Run().value(), 1);
  auto again = (*conn)->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  EXPECT_EQ(*again, *ins);

  auto sel = (*conn)->Prepare("SELECT a, b, c FROM t ORDER BY a IS NULL");
  ASSERT_TRUE(sel);
  ASSERT_TRUE((*sel)->Step().value());
  EXPECT_EQ((*sel)->Int(0), 42);
  EXPECT_DOUBLE_EQ((*sel)->Double(1), 0.5);
  EXPECT_EQ((*sel)->Text(2), std::string("x\0y", 3));
  ASSERT_TRUE((*sel)->Step().value());
  EXPECT_FALSE((*sel)->OptInt(0).has_value());
  EXPECT_FALSE((*sel)->OptText(2).has_value());
  EXPECT_FALSE((*sel)->Step().value());
}

TEST(ConnectionTest, ReportsErrorsWithContext) {
  auto conn = Connection::Open(":memory:");
  ASSERT_TRUE(conn);
  auto bad = (*conn)->Prepare("SELEC 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos);
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE u (k TEXT PRIMARY KEY)"));
  ASSERT_TRUE((*conn)->Exec("INSERT INTO u VALUES ('a')"));
  auto dup = (*conn)->Exec("INSERT INTO u VALUES ('a')");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
}

TEST(ConnectionTest, OpenFailsOnMissingDirectory) {
  auto conn = Connection::Open("/nonexistent-dir-vz/x.db");
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace vectorize::storage::sqlite
