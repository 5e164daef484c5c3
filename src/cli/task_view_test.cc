#include "cli/task_view.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace vectorize::cli {
namespace {

constexpr Micros kSec = kMicrosPerSecond;
const Micros kNow = *ParseRfc3339("2026-01-15T12:00:00Z");

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FormatAgo, Units) {
  EXPECT_EQ(FormatAgo(kNow, kNow), "just now");
  EXPECT_EQ(FormatAgo(kNow, kNow - kSec / 2), "just now");
  EXPECT_EQ(FormatAgo(kNow, kNow - 42 * kSec), "42s ago");
  EXPECT_EQ(FormatAgo(kNow, kNow - 60 * kSec), "1m ago");
  EXPECT_EQ(FormatAgo(kNow, kNow - 3599 * kSec), "59m ago");
  EXPECT_EQ(FormatAgo(kNow, kNow - 3 * 3600 * kSec), "3h ago");
  EXPECT_EQ(FormatAgo(kNow, kNow - 50 * 3600 * kSec), "2d ago");
  EXPECT_EQ(FormatAgo(kNow, kNow + 10 * kSec), "in 10s");
}

TEST(FormatDuration, Units) {
  EXPECT_EQ(FormatDuration(850'000), "850ms");
  EXPECT_EQ(FormatDuration(-5), "0ms");
  EXPECT_EQ(FormatDuration(12 * kSec), "12s");
  EXPECT_EQ(FormatDuration(185 * kSec), "3m05s");
  EXPECT_EQ(FormatDuration((2 * 3600 + 3 * 60 + 9) * kSec), "2h03m");
  EXPECT_EQ(FormatDuration((4 * 86400 + 5 * 3600) * kSec), "4d05h");
}

TEST(ProgressBar, FillsByFraction) {
  EXPECT_EQ(ProgressBar(0, 10), "[..........]");
  EXPECT_EQ(ProgressBar(0.4, 10), "[####......]");
  EXPECT_EQ(ProgressBar(0.999, 10), "[#########.]");
  EXPECT_EQ(ProgressBar(1, 10), "[##########]");
  EXPECT_EQ(ProgressBar(7, 4), "[####]");
  EXPECT_EQ(ProgressBar(-1, 4), "[....]");
  EXPECT_EQ(ProgressBar(std::nan(""), 4), "[....]");
  EXPECT_EQ(FormatPercent(0.4), "40%");
  EXPECT_EQ(FormatPercent(0.999), "99%");
  EXPECT_EQ(FormatPercent(1), "100%");
}

TEST(Truncate, CutsByCodePointsAndHidesControls) {
  EXPECT_EQ(Truncate("hello", 10), "hello");
  EXPECT_EQ(Truncate("hello", 5), "hello");
  EXPECT_EQ(Truncate("hello world", 6), "hello…");
  EXPECT_EQ(Truncate("héllo wörld", 6), "héllo…");
  EXPECT_EQ(DisplayWidth("héllo…"), 6u);
  EXPECT_EQ(Truncate("a\x1b[2Jb", 10), "a [2Jb");
  EXPECT_EQ(Truncate("abc", 0), "");
  EXPECT_EQ(PadRight("ab", 4), "ab  ");
  EXPECT_EQ(PadRight("abcdef", 4), "abcdef");
}

TEST(ParseTaskList, ReadsApiRecords) {
  auto list = ParseTaskList(
      R"([{"id":"0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d","task_type":"training","task_status":"R",
           "tag":"exp","created_at":"2026-01-15T11:57:00.000000Z","end_date":null,
           "error_msg":null,"progress":0.4,"progress_msg":"step 2/5"}])");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  const auto& t = list->front();
  EXPECT_EQ(t.type, "training");
  EXPECT_EQ(t.status, 'R');
  EXPECT_EQ(t.tag, "exp");
  EXPECT_EQ(t.created_at, kNow - 180 * kSec);
  EXPECT_FALSE(t.end_date.has_value());
  EXPECT_DOUBLE_EQ(*t.progress, 0.4);
  EXPECT_FALSE(ParseTaskList("{}").has_value());
  EXPECT_FALSE(ParseTaskList("[{\"id\":1}]").has_value());
}

std::vector<TaskView> SampleTasks() {
  TaskView r{.id = "0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d",
             .type = "training",
             .status = 'R',
             .tag = "experiment-1",
             .created_at = kNow - 180 * kSec,
             .progress = 0.4,
             .progress_msg = "step 2/5"};
  TaskView f{.id = "0193f2c0-0000-7000-8000-000000000001",
             .type = "dataset_upload",
             .status = 'F',
             .created_at = kNow - 2 * 3600 * kSec,
             .end_date = kNow - 2 * 3600 * kSec + 65 * kSec,
             .error_msg = "the file is not valid CSV: line 3 has 4 columns, expected 3"};
  TaskView q{.id = "0193f2c0-0000-7000-8000-000000000002",
             .type = "synthesis",
             .status = 'Q',
             .created_at = kNow - 5 * kSec};
  return {r, f, q};
}

TEST(FormatTaskTable, FitsTheWidthWithShortIds) {
  ViewOptions o{.now = kNow, .width = 100};
  auto lines = Lines(FormatTaskTable(SampleTasks(), o));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("ID        TYPE            STATUS   TAG", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("CREATED  DURATION  PROGRESS"), std::string::npos) << lines[0];
  // The random tail of a UUIDv7: its head encodes the creation time.
  EXPECT_EQ(lines[1].rfind("4a5b6c7d  training        RUNNING  experiment-1", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("3m ago   3m00s     40% step 2/5"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("FAILED   -"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("2h ago   1m05s     error: the file"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("QUEUED   -             5s ago   -         -"), std::string::npos)
      << lines[3];
  for (const auto& l : lines) {
    EXPECT_LE(DisplayWidth(l), 100u) << l;
    EXPECT_NE(l.back(), ' ') << l;
  }
}

TEST(FormatTaskTable, NarrowTerminalTruncatesTagAndProgress) {
  ViewOptions o{.now = kNow, .width = 70};
  for (const auto& l : Lines(FormatTaskTable(SampleTasks(), o))) {
    EXPECT_LE(DisplayWidth(l), 70u) << l;
  }
  auto lines = Lines(FormatTaskTable(SampleTasks(), o));
  EXPECT_NE(lines[2].find("…"), std::string::npos) << lines[2];
}

TEST(FormatTaskTable, WideIdsColoursAndBars) {
  ViewOptions o{.now = kNow, .width = 140, .wide = true, .color = true, .bars = true};
  auto lines = Lines(FormatTaskTable(SampleTasks(), o));
  EXPECT_EQ(lines[1].rfind("0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d  training", 0), 0u);
  EXPECT_NE(lines[1].find("\x1b[34mRUNNING\x1b[0m"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\x1b[31mFAILED\x1b[0m "), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("\x1b[90mQUEUED\x1b[0m"), std::string::npos) << lines[3];
  EXPECT_NE(lines[1].find("[#####.........] 40% step 2/5"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[0].find("\x1b["), std::string::npos);
}

TEST(FormatTaskTable, Empty) { EXPECT_EQ(FormatTaskTable({}, {}), "No tasks.\n"); }

TEST(StatusNames, AllCodes) {
  EXPECT_EQ(StatusName('Q'), "QUEUED");
  EXPECT_EQ(StatusName('C'), "CANCELLED");
  EXPECT_EQ(StatusName('x'), "?");
  EXPECT_EQ(StatusColor('D'), "\x1b[32m");
  EXPECT_EQ(StatusColor('C'), "\x1b[33m");
}

TEST(FormatTaskDetail, KeyValueLinesAndPrettyInputs) {
  auto v = boost::json::parse(R"({
    "id":"0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d","task_type":"training","task_status":"F",
    "tag":null,"created_at":"2026-01-15T11:00:00.000000Z",
    "end_date":"2026-01-15T11:02:00.000000Z","error_msg":"out of memory","progress":0.5,
    "progress_msg":"step 1/2","started_at":"2026-01-15T11:01:00.000000Z",
    "updated_at":"2026-01-15T11:02:00.000000Z","attempts":3,"max_attempts":3,
    "run_after":"2026-01-15T11:00:00.000000Z","worker_id":"host-1:42","lease_expires_at":null,
    "cancel_requested":false,"inputs":{"ms":20,"steps":[1,2]},"result":null})");
  const std::string out = FormatTaskDetail(v.as_object(), {.now = kNow});
  EXPECT_NE(out.find("id:               0193f2c0-8a1e-7c3a-9b1d-2f6e4a5b6c7d\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("status:           F (FAILED)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("tag:              -\n"), std::string::npos) << out;
  EXPECT_NE(out.find("created_at:       2026-01-15T11:00:00.000000Z (1h ago)\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("duration:         1m00s\n"), std::string::npos) << out;
  EXPECT_NE(out.find("progress:         [##########..........] 50%\n"), std::string::npos) << out;
  EXPECT_NE(out.find("attempts:         3 of 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("worker:           host-1:42\n"), std::string::npos) << out;
  EXPECT_NE(out.find("cancel_requested: no\n"), std::string::npos) << out;
  EXPECT_NE(out.find("error_msg:        out of memory\n"), std::string::npos) << out;
  EXPECT_NE(
      out.find("inputs:\n  {\n    \"ms\": 20,\n    \"steps\": [\n      1,\n      2\n    ]\n  }\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("result:           -\n"), std::string::npos) << out;
}

TEST(PrettyJson, EmptyContainersStayOnOneLine) {
  EXPECT_EQ(PrettyJson(boost::json::parse(R"({"a":{},"b":[]})")),
            "{\n  \"a\": {},\n  \"b\": []\n}");
}

}  // namespace
}  // namespace vectorize::cli
