#include "tasks/task_query.h"

#include <gtest/gtest.h>

namespace vectorize::tasks {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

Error ParseError(const Params& p) {
  auto q = ParseTaskQuery(p);
  EXPECT_FALSE(q.has_value());
  return q ? Error{} : q.error();
}

TEST(TaskQueryTest, DefaultsMatchTheSeed) {
  auto q = ParseTaskQuery({});
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->types.empty());
  EXPECT_TRUE(q->statuses.empty());
  EXPECT_FALSE(q->tag);
  EXPECT_EQ(q->within_hours, 1);
  EXPECT_FALSE(q->limit);
  EXPECT_EQ(q->offset, 0);
}

TEST(TaskQueryTest, ParsesEveryFilterAndRepeats) {
  auto q = ParseTaskQuery({{"task_type", "training"},
                           {"task_type", "evaluation"},
                           {"task_type", "training"},
                           {"status", "R"},
                           {"status", "Q"},
                           {"tag", "experiment-1"},
                           {"limit", "5"},
                           {"offset", "10"},
                           {"within_hours", "168"},
                           {"unknown", "ignored"}});
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->types, (std::vector{TaskType::kTraining, TaskType::kEvaluation}));
  EXPECT_EQ(q->statuses, (std::vector{TaskStatus::kQueued, TaskStatus::kRunning}));
  EXPECT_EQ(q->tag, "experiment-1");
  EXPECT_EQ(q->limit, 5);
  EXPECT_EQ(q->offset, 10);
  EXPECT_EQ(q->within_hours, 168);
}

TEST(TaskQueryTest, EveryInvalidValueNamesItsParameter) {
  const std::vector<std::pair<Params, std::string>> cases = {
      {{{"status", "RUNNING"}}, "status"},
      {{{"status", ""}}, "status"},
      {{{"status", "1"}}, "status"},
      {{{"status", "q"}}, "status"},
      {{{"limit", "0"}}, "limit"},
      {{{"limit", "999"}}, "limit"},
      {{{"limit", "101"}}, "limit"},
      {{{"limit", "-5"}}, "limit"},
      {{{"limit", "abc"}}, "limit"},
      {{{"limit", ""}}, "limit"},
      {{{"limit", "1.5"}}, "limit"},
      {{{"limit", " 5"}}, "limit"},
      {{{"offset", "-1"}}, "offset"},
      {{{"offset", "abc"}}, "offset"},
      {{{"offset", "99999999999999999999999"}}, "offset"},
      {{{"within_hours", "0"}}, "within_hours"},
      {{{"within_hours", "-1"}}, "within_hours"},
      {{{"within_hours", ""}}, "within_hours"},
      {{{"task_type", "UPLOAD"}}, "task_type"},
      {{{"task_type", ""}}, "task_type"},
      {{{"task_type", "training"}, {"task_type", "invalid_type"}}, "task_type"},
      {{{"tag", std::string(256, 'x')}}, "tag"},
      {{{"tag", std::string(101, 'x')}}, "tag"},
      {{{"tag", ""}}, "tag"},
      {{{"tag", "\xff\xfe"}}, "tag"},
  };
  for (const auto& [params, name] : cases) {
    Error e = ParseError(params);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(e.fields.size(), 1u) << name;
    EXPECT_EQ(e.fields[0].loc, (std::vector<std::string>{"query", name}));
    EXPECT_FALSE(e.fields[0].msg.empty());
  }
}

// An integer beyond 64 bits is out of range, not "not an integer".
TEST(TaskQueryTest, HugeIntegersAreOutOfRange) {
  for (const char* name : {"limit", "offset", "within_hours"}) {
    for (const char* value : {"99999999999999999999999", "-99999999999999999999999"}) {
      Error e = ParseError({{name, value}});
      ASSERT_EQ(e.fields.size(), 1u) << name;
      EXPECT_EQ(e.fields[0].type, "value_error") << name << " " << value;
      EXPECT_NE(e.fields[0].msg.find("must be"), std::string::npos) << e.fields[0].msg;
    }
  }
  EXPECT_EQ(ParseError({{"limit", "9x"}}).fields.at(0).type, "int_parsing");
  EXPECT_EQ(ParseError({{"limit", "-"}}).fields.at(0).type, "int_parsing");
}

TEST(TaskQueryTest, EchoedValuesAreValidUtf8AndShort) {
  Error e = ParseError({{"limit", std::string("\xff") + std::string(500, '9')}});
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_LT(e.fields[0].msg.size(), 120u);
  EXPECT_EQ(e.fields[0].msg.find('\xff'), std::string::npos);
}

TEST(TaskQueryTest, ReportsEveryProblemAtOnce) {
  Error e = ParseError({{"limit", "0"}, {"status", "X"}, {"within_hours", "0"}});
  EXPECT_EQ(e.fields.size(), 3u);
}

TEST(TaskQueryTest, TagLengthCountsCharactersNotBytes) {
  std::string hundred_umlauts;
  for (int i = 0; i < 100; ++i) hundred_umlauts += "\xC3\xBC";  // ü
  EXPECT_TRUE(ParseTaskQuery({{"tag", hundred_umlauts}}));
  EXPECT_FALSE(ParseTaskQuery({{"tag", hundred_umlauts + "x"}}));
}

TEST(TaskQueryTest, BoundaryValuesAreAccepted) {
  EXPECT_TRUE(ParseTaskQuery({{"limit", "1"}}));
  EXPECT_TRUE(ParseTaskQuery({{"limit", "100"}}));
  EXPECT_TRUE(ParseTaskQuery({{"offset", "0"}}));
  EXPECT_TRUE(ParseTaskQuery({{"within_hours", "1"}}));
  EXPECT_TRUE(ParseTaskQuery({{"tag", std::string(100, 'x')}}));
}

TEST(TaskQueryTest, StatementSelectsOnlyRequestedTables) {
  TaskQuery q;
  q.types = {TaskType::kTraining};
  q.statuses = {TaskStatus::kRunning};
  q.limit = 5;
  auto st = BuildListStatement(q, 1'000'000'000, storage::Dialect::kSqlite);
  EXPECT_NE(st.sql.find("FROM training_task"), std::string::npos);
  EXPECT_EQ(st.sql.find("evaluation_task"), std::string::npos);
  // Only running tasks were asked for: no arms for finished ones straddling the cutoff.
  EXPECT_EQ(st.sql.find("span_class"), std::string::npos);
  EXPECT_NE(st.sql.find("ORDER BY created_at DESC, id DESC LIMIT $13"), std::string::npos);
}

TEST(TaskQueryTest, PostgresOffsetWithoutLimit) {
  TaskQuery q;
  q.offset = 3;
  auto pg = BuildListStatement(q, 0, storage::Dialect::kPostgres);
  EXPECT_EQ(pg.sql.find("LIMIT"), std::string::npos);
  auto lite = BuildListStatement(q, 0, storage::Dialect::kSqlite);
  EXPECT_NE(lite.sql.find("LIMIT -1 OFFSET"), std::string::npos);
}

}  // namespace
}  // namespace vectorize::tasks
