#include "inference/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

namespace vectorize::inference {
namespace {

TEST(WorkPoolTest, RunsEveryPartOnceAndInitsEachWorker) {
  std::atomic<int> inits = 0;
  WorkPool pool(3, [&] { ++inits; });
  EXPECT_EQ(pool.size(), 3);
  std::vector<std::atomic<int>> runs(10);
  pool.Run(10, [&](std::size_t i) { ++runs[i]; });
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  pool.Run(0, [&](std::size_t) { FAIL() << "no parts, no calls"; });
  // Workers start asynchronously; by the time they ran a part they ran init.
  EXPECT_LE(inits.load(), 2);
}

TEST(WorkPoolTest, PartsRunSideBySide) {
  WorkPool pool(2, nullptr);
  // Two parts that each wait for the other: only completes if they run on two threads at once.
  std::atomic<int> arrived = 0;
  std::set<std::thread::id> threads;
  std::mutex mu;
  pool.Run(2, [&](std::size_t) {
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    ++arrived;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  EXPECT_EQ(arrived.load(), 2);
  EXPECT_EQ(threads.size(), 2u);
}

TEST(WorkPoolTest, SinglePoolRunsEverythingOnTheCaller) {
  WorkPool pool(1, nullptr);
  std::set<std::thread::id> threads;
  pool.Run(4, [&](std::size_t) { threads.insert(std::this_thread::get_id()); });
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(WorkPoolTest, RethrowsAPartsExceptionAfterAllPartsFinish) {
  WorkPool pool(2, nullptr);
  std::atomic<int> finished = 0;
  EXPECT_THROW(pool.Run(6,
                        [&](std::size_t i) {
                          if (i == 3) throw std::runtime_error("part 3");
                          ++finished;
                        }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 5);
}

TEST(WorkPoolTest, ConcurrentCallsEachGetTheirOwnParts) {
  WorkPool pool(2, nullptr);
  std::vector<std::thread> callers;
  std::atomic<int> wrong = 0;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        std::vector<int> seen(5, 0);
        pool.Run(5, [&](std::size_t i) { seen[i] += c + 1; });
        for (int v : seen) wrong += v != c + 1;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace vectorize::inference
