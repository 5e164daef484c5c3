#include "http/routes/task_json.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/json_text.h"

namespace vectorize::http {
namespace {

TEST(TaskJsonTest, FastListMatchesTheDomSerialisation) {
  std::vector<tasks::TaskRecord> list;
  tasks::TaskRecord a;
  a.id = "0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d";
  a.type = tasks::TaskType::kTraining;
  a.status = tasks::TaskStatus::kRunning;
  a.created_at = 1705314600123456;
  a.progress = 0.25;
  a.progress_msg = "epoch 1/3, step 40/120";
  list.push_back(a);
  tasks::TaskRecord b;
  b.id = "0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7e";
  b.type = tasks::TaskType::kDatasetUpload;
  b.status = tasks::TaskStatus::kFailed;
  b.tag = "quo\"te\\back\nslash \x01 ü";
  b.created_at = 0;
  b.end_date = 1;
  b.error_msg = "column 'question' missing\t(row 3)";
  list.push_back(b);

  std::string fast;
  AppendTaskListJson(fast, list);
  boost::json::array dom;
  for (const auto& t : list) dom.emplace_back(TaskRecordJson(t));
  EXPECT_EQ(boost::json::parse(fast), boost::json::value(dom));
  EXPECT_EQ(fast, SerializeJson(dom));  // the text Response::Json would send
  EXPECT_NE(fast.find("\"progress\":0.25,"), std::string::npos);  // not Boost's 2.5E-1

  std::string empty;
  AppendTaskListJson(empty, {});
  EXPECT_EQ(empty, "[]");
}

TEST(TaskJsonTest, RecordHasTheSeedFields) {
  tasks::TaskRecord t;
  t.id = "123e4567-e89b-12d3-a456-426614174000";
  t.type = tasks::TaskType::kTraining;
  t.status = tasks::TaskStatus::kRunning;
  t.tag = "my-experiment";
  t.created_at = 1705314600000000;
  auto o = TaskRecordJson(t);
  EXPECT_EQ(o.at("id").as_string(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(o.at("task_type").as_string(), "training");
  EXPECT_EQ(o.at("task_status").as_string(), "R");
  EXPECT_EQ(o.at("tag").as_string(), "my-experiment");
  EXPECT_EQ(o.at("created_at").as_string(), "2024-01-15T10:30:00.000000Z");
  EXPECT_TRUE(o.at("end_date").is_null());
}

}  // namespace
}  // namespace vectorize::http
