// PgListener against a real server (VECTORIZE_TEST_PG_URL; skipped without it): notifications
// from other connections reach the callbacks promptly, a cancel requested through the store is
// announced, and the listener survives its connection being killed.
#include "tasks/postgres/pg_listener.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "tasks/postgres/postgres_task_store.h"
#include "tasks/test_util.h"

namespace vectorize::tasks {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::PgSchema;

// What the callbacks saw, with the time each arrived. Other tests running in parallel on the
// same database notify the same channels, so checks look for specific events, never counts.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<TaskType, Clock::time_point>> work;
  std::vector<std::pair<std::string, Clock::time_point>> cancels;

  PgListener::Callbacks Callbacks() {
    return {[this](TaskType t) {
              std::lock_guard lock(mu);
              work.emplace_back(t, Clock::now());
              cv.notify_all();
            },
            [this](const std::string& id) {
              std::lock_guard lock(mu);
              cancels.emplace_back(id, Clock::now());
              cv.notify_all();
            }};
  }
  // When `id` was announced (waiting up to `wait`), or nullopt.
  std::optional<Clock::time_point> WaitCancel(const std::string& id, milliseconds wait) {
    std::unique_lock lock(mu);
    std::optional<Clock::time_point> at;
    cv.wait_for(lock, wait, [&] {
      for (auto& [i, t] : cancels) {
        if (i == id) at = t;
      }
      return at.has_value();
    });
    return at;
  }
  // The first on_work(type) at or after `since`, waiting up to `wait`.
  std::optional<Clock::time_point> WaitWork(TaskType type, Clock::time_point since,
                                            milliseconds wait) {
    std::unique_lock lock(mu);
    std::optional<Clock::time_point> at;
    cv.wait_for(lock, wait, [&] {
      for (auto& [ty, t] : work) {
        if (ty == type && t >= since) {
          at = t;
          return true;
        }
      }
      return false;
    });
    return at;
  }
};

std::string RandomId() {
  std::random_device rd;
  return "vz-listener-test-" + std::to_string(rd()) + "-" + std::to_string(rd());
}

class PgListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUrl().empty()) GTEST_SKIP() << testing::PgSkipMessage();
    schema_ = std::make_unique<PgSchema>(testing::TestPgUrl());
    ASSERT_TRUE(schema_->error().empty()) << schema_->error();
    auto admin = storage::postgres::Connection::Open({schema_->url()});
    ASSERT_TRUE(admin) << admin.error().message;
    admin_ = std::move(*admin);
  }
  void TearDown() override {
    if (listener_) listener_->Stop();
    listener_.reset();
    admin_.reset();
    schema_.reset();
  }
  void StartListener() {
    PgListener::Options o;
    o.url = schema_->url();
    listener_ = std::make_unique<PgListener>(o, seen_.Callbacks());
    listener_->Start();
    WaitConnected();
  }
  int WaitConnected(int not_pid = 0) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      const int pid = listener_->backend_pid();
      if (pid != 0 && pid != not_pid) return pid;
      std::this_thread::sleep_for(milliseconds(5));
    }
    ADD_FAILURE() << "the listener did not connect";
    return 0;
  }
  void Notify(std::string_view channel, const std::string& payload) {
    auto r = admin_->Query("SELECT pg_notify($1, $2)", {std::string(channel), payload});
    ASSERT_TRUE(r) << r.error().message;
  }
  // Sends a cancel notification with a fresh payload; returns the delivery latency.
  std::optional<milliseconds> RoundTrip() {
    const std::string id = RandomId();
    const auto sent = Clock::now();
    Notify(PostgresTaskStore::kCancelChannel, id);
    auto at = seen_.WaitCancel(id, milliseconds(2000));
    if (!at) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(*at - sent);
  }

  std::unique_ptr<PgSchema> schema_;
  std::unique_ptr<storage::postgres::Connection> admin_;
  Seen seen_;
  std::unique_ptr<PgListener> listener_;
};

TEST_F(PgListenerTest, NotificationsReachTheCallbacksWithin100ms) {
  StartListener();
  for (int i = 0; i < 5; ++i) {
    auto latency = RoundTrip();
    ASSERT_TRUE(latency) << "cancel notification not delivered";
    EXPECT_LT(latency->count(), 100);
    std::cout << "  cancel notification delivered in " << latency->count() << " ms\n";
  }
  const auto sent = Clock::now();
  Notify(PostgresTaskStore::kNotifyChannel, "evaluation");
  auto at = seen_.WaitWork(TaskType::kEvaluation, sent, milliseconds(2000));
  ASSERT_TRUE(at) << "work notification not delivered";
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(*at - sent).count(), 100);
  // Payloads that name no task type are ignored (and do not stop the listener).
  Notify(PostgresTaskStore::kNotifyChannel, "no-such-type");
  EXPECT_TRUE(RoundTrip());
}

TEST_F(PgListenerTest, StoreCancelOfARunningTaskIsAnnounced) {
  PostgresTaskStore::Options so;
  so.url = schema_->url();
  auto store = PostgresTaskStore::Open(so);
  ASSERT_TRUE(store) << store.error().message;
  StartListener();
  auto ids = (*store)->Enqueue(std::vector<NewTask>{{TaskType::kTraining}, {TaskType::kSynthesis}});
  ASSERT_TRUE(ids);
  auto claimed = (*store)->Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  const auto sent = Clock::now();
  auto outcome = (*store)->Cancel(ids->at(0), std::nullopt);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, CancelOutcome::kRequested);
  auto at = seen_.WaitCancel(ids->at(0), milliseconds(2000));
  ASSERT_TRUE(at) << "cancel of a running task not announced";
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(*at - sent).count(), 100);
  // A queued task is cancelled at once: there is no run to tell.
  auto queued = (*store)->Cancel(ids->at(1), std::nullopt);
  ASSERT_TRUE(queued);
  EXPECT_EQ(*queued, CancelOutcome::kCancelled);
  EXPECT_FALSE(seen_.WaitCancel(ids->at(1), milliseconds(200)));
}

TEST_F(PgListenerTest, ReconnectsAfterItsConnectionIsKilledAndLooksForWork) {
  StartListener();
  const int pid = listener_->backend_pid();
  ASSERT_TRUE(RoundTrip());
  const auto killed_at = Clock::now();
  auto r = admin_->Query("SELECT pg_terminate_backend($1::int)", {std::int64_t{pid}});
  ASSERT_TRUE(r) << r.error().message;
  const int new_pid = WaitConnected(pid);
  ASSERT_NE(new_pid, 0);
  EXPECT_EQ(listener_->reconnects(), 1u);
  // Notifications sent while it was away are lost: it asks for a look at every type.
  for (TaskType type : kAllTaskTypes) {
    EXPECT_TRUE(seen_.WaitWork(type, killed_at, milliseconds(2000))) << TaskTypeName(type);
  }
  std::cout << "  reconnected in "
            << std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at).count()
            << " ms\n";
  auto latency = RoundTrip();
  ASSERT_TRUE(latency) << "no delivery after reconnecting";
  EXPECT_LT(latency->count(), 100);
}

TEST(PgListenerStopTest, StopsPromptlyEvenWhenTheServerIsUnreachable) {
  Seen seen;
  PgListener::Options o;
  o.url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1";
  PgListener listener(o, seen.Callbacks());
  listener.Start();
  std::this_thread::sleep_for(milliseconds(150));
  const auto t0 = Clock::now();
  listener.Stop();
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count(), 1500);
  EXPECT_EQ(listener.backend_pid(), 0);
}

}  // namespace
}  // namespace vectorize::tasks
