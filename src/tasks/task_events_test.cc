#include "tasks/task_events.h"

#include <gtest/gtest.h>

#include <thread>

namespace vectorize::tasks {
namespace {

std::vector<std::uint64_t> Seqs(const TaskEventLog::Batch& b) {
  std::vector<std::uint64_t> out;
  for (const auto& e : b.entries) out.push_back(e.seq);
  return out;
}

const std::uint64_t kMax = UINT64_MAX;

TEST(TaskEventLogTest, NumbersLocallyFromItsOrigin) {
  TaskEventLog log(100, 1000);
  log.TasksChanged(std::vector<std::string>{"a", "b"});
  log.TasksChanged(std::vector<std::string>{"a"});
  EXPECT_EQ(log.last_seq(), 1003u);
  auto all = log.ReadAfter(1000, kMax, 100);
  EXPECT_FALSE(all.gap);
  EXPECT_EQ(Seqs(all), (std::vector<std::uint64_t>{1001, 1002, 1003}));
  EXPECT_EQ(all.entries[2].task_id, "a");
  auto tail = log.ReadAfter(1002, kMax, 100);
  EXPECT_EQ(Seqs(tail), std::vector<std::uint64_t>{1003});
  EXPECT_EQ(Seqs(log.ReadAfter(1000, 1002, 100)), (std::vector<std::uint64_t>{1001, 1002}));
  EXPECT_EQ(Seqs(log.ReadAfter(1000, kMax, 1)), std::vector<std::uint64_t>{1001});
  EXPECT_TRUE(log.ReadAfter(1003, kMax, 100).entries.empty());
  EXPECT_FALSE(log.ReadAfter(1003, kMax, 100).gap);
}

TEST(TaskEventLogTest, PositionsItCannotServeAreGaps) {
  TaskEventLog log(3, 1000);
  EXPECT_TRUE(log.ReadAfter(999, kMax, 10).gap);                        // before this log started
  EXPECT_TRUE(log.ReadAfter(1001, kMax, 10).gap);                       // never issued (the future)
  log.TasksChanged(std::vector<std::string>{"a", "b", "c", "d", "e"});  // 1001..1005; keeps 3
  EXPECT_TRUE(log.ReadAfter(1000, kMax, 10).gap);                       // 1001, 1002 evicted
  EXPECT_TRUE(log.ReadAfter(1001, kMax, 10).gap);
  auto ok = log.ReadAfter(1002, kMax, 10);
  EXPECT_FALSE(ok.gap);
  EXPECT_EQ(Seqs(ok), (std::vector<std::uint64_t>{1003, 1004, 1005}));
}

TEST(TaskEventLogTest, GapMarkersAreReported) {
  TaskEventLog log(100, 0);
  log.TasksChanged(std::vector<std::string>{"a"});
  log.MarkGap();
  log.TasksChanged(std::vector<std::string>{"b"});
  EXPECT_FALSE(log.ReadAfter(0, 1, 10).gap);
  auto b = log.ReadAfter(1, kMax, 10);
  EXPECT_TRUE(b.gap);
  EXPECT_EQ(b.entries.back().task_id, "b");
  EXPECT_FALSE(log.ReadAfter(2, kMax, 10).gap);  // after the marker: complete again
}

TEST(TaskEventLogTest, ExternalNumbersKeepOrderAndFlagPositionsFromBeforeItListened) {
  TaskEventLog log(100, 0);
  log.AppendNumbered(4096 * 7 + 0, std::vector<std::string>{"a", "b"});
  log.AppendNumbered(4096 * 7 + 1, std::vector<std::string>{"dup"});  // already seen: ignored
  log.AppendNumbered(4096 * 9, std::vector<std::string>{"c"});
  auto all = log.ReadAfter(0, kMax, 10);  // a client that subscribed before anything came
  EXPECT_FALSE(all.gap);
  EXPECT_EQ(Seqs(all), (std::vector<std::uint64_t>{4096 * 7, 4096 * 7 + 1, 4096 * 9}));
  EXPECT_FALSE(log.ReadAfter(4096 * 7 + 1, kMax, 10).gap);
  // An id another node issued before this one listened cannot be replayed from here.
  EXPECT_TRUE(log.ReadAfter(4096 * 3, kMax, 10).gap);
}

TEST(TaskEventLogTest, WaitAfterWakesOnAppendAndInterrupt) {
  TaskEventLog log(100, 0);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.TasksChanged(std::vector<std::string>{"a"});
  });
  const auto t0 = std::chrono::steady_clock::now();
  log.WaitAfter(0, std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(log.last_seq(), 1u);
  t.join();
  std::thread u([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.Interrupt();
  });
  const auto t1 = std::chrono::steady_clock::now();
  log.WaitAfter(UINT64_MAX, std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(5));
  u.join();
}

}  // namespace
}  // namespace vectorize::tasks
