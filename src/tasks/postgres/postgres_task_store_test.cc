// What only the PostgreSQL store does (the shared semantics are in task_store_test.cc): wake-up
// notifications, reconnecting after the server drops its connections, concurrent starters,
// failing fast and without passwords when the server is unreachable, claims across processes.
#include "tasks/postgres/postgres_task_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <thread>

#include "tasks/test_util.h"

namespace vectorize::tasks {
namespace {

using testing::PgSchema;

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUrl().empty()) GTEST_SKIP() << testing::PgSkipMessage();
    schema_ = std::make_unique<PgSchema>(testing::TestPgUrl());
    ASSERT_TRUE(schema_->error().empty()) << schema_->error();
    // A name of its own, so the test can find (and kill) exactly its store's connections.
    url_ = schema_->url() + "&application_name=" + schema_->name();
    store_ = OpenStore();
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();
    schema_.reset();
  }
  std::unique_ptr<PostgresTaskStore> OpenStore() {
    PostgresTaskStore::Options options;
    options.url = url_;
    auto store = PostgresTaskStore::Open(options);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<storage::postgres::Connection> Admin() {
    auto conn = storage::postgres::Connection::Open({schema_->url()});
    EXPECT_TRUE(conn) << conn.error().message;
    return conn ? std::move(*conn) : nullptr;
  }
  std::unique_ptr<PgSchema> schema_;
  std::string url_;
  std::unique_ptr<PostgresTaskStore> store_;
};

// Payloads of vectorize_tasks notifications sent by the server processes in `senders`, received
// within `wait` (or as soon as `expected` have arrived). Other tests running in parallel on the
// same database notify the same channel: their notifications are ignored.
std::multiset<std::string> Drain(storage::postgres::Connection& conn, const std::set<int>& senders,
                                 std::chrono::milliseconds wait, size_t expected = SIZE_MAX) {
  std::multiset<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    PQconsumeInput(conn.raw());
    while (PGnotify* n = PQnotifies(conn.raw())) {
      if (std::string(n->relname) == PostgresTaskStore::kNotifyChannel &&
          senders.count(n->be_pid)) {
        got.insert(n->extra);
      }
      PQfreemem(n);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || got.size() >= expected) return got;
    pollfd pfd{PQsocket(conn.raw()), POLLIN, 0};
    poll(&pfd, 1, static_cast<int>(left.count()));
  }
}

TEST_F(PgStoreTest, NotifiesWhenTasksBecomeClaimable) {
  auto listener = Admin();
  ASSERT_TRUE(listener);
  ASSERT_TRUE(listener->Exec("LISTEN vectorize_tasks"));
  // The server processes of this test's store (found by its application_name).
  auto senders = [&] {
    std::set<int> pids;
    auto rows = listener->Query("SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                                {schema_->name()});
    EXPECT_TRUE(rows) << rows.error().message;
    for (int i = 0; rows && i < rows->size(); ++i) pids.insert(static_cast<int>(rows->Int(i, 0)));
    return pids;
  };

  auto ids = store_->Enqueue(
      std::vector<NewTask>{{TaskType::kTraining}, {TaskType::kTraining}, {TaskType::kSynthesis}});
  ASSERT_TRUE(ids);
  // One notification per type and transaction.
  EXPECT_EQ(Drain(*listener, senders(), std::chrono::milliseconds(2000), 2),
            (std::multiset<std::string>{"synthesis", "training"}));

  // A retryable error sends the task back to Q: notified. Failed: not.
  auto claimed = store_->Claim(TaskType::kTraining, 2, "w1", kMicrosPerHour);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 2u);
  LeaseRef a{(*claimed)[0].id, TaskType::kTraining, "w1", 1};
  LeaseRef b{(*claimed)[1].id, TaskType::kTraining, "w1", 1};
  Completion retry;
  retry.lease = a;
  retry.kind = Completion::Kind::kRetryLater;
  retry.error_msg = std::string("hub unavailable");
  Completion fail;
  fail.lease = b;
  fail.kind = Completion::Kind::kFailed;
  fail.error_msg = std::string("bad input");
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{retry}));
  EXPECT_EQ(Drain(*listener, senders(), std::chrono::milliseconds(2000), 1),
            (std::multiset<std::string>{"training"}));
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{fail}));
  EXPECT_TRUE(Drain(*listener, senders(), std::chrono::milliseconds(200)).empty());
  // A fenced-out requeue changes nothing and wakes nobody.
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{retry}));
  EXPECT_TRUE(Drain(*listener, senders(), std::chrono::milliseconds(200)).empty());
  // A manual retry of a finished task: notified.
  ASSERT_TRUE(store_->Retry(b.id, 3));
  EXPECT_EQ(Drain(*listener, senders(), std::chrono::milliseconds(2000), 1),
            (std::multiset<std::string>{"training"}));
}

TEST_F(PgStoreTest, SurvivesTheServerDroppingItsConnections) {
  auto ids = store_->Enqueue(std::vector<NewTask>{{TaskType::kEvaluation}});
  ASSERT_TRUE(ids);
  ASSERT_TRUE(store_->Ping());
  auto admin = Admin();
  ASSERT_TRUE(admin);
  // What a server restart does to every pooled connection.
  auto killed = admin->Query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
      {schema_->name()});
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_GE(killed->Int(0, 0), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Reads and writes go on, each on a reconnected connection.
  auto got = store_->Get(ids->at(0));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, TaskStatus::kQueued);
  auto claimed = store_->Claim(TaskType::kEvaluation, 1, "w1", kMicrosPerHour);
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_EQ(claimed->size(), 1u);
  EXPECT_TRUE(store_->Ping());
}

TEST_F(PgStoreTest, DuplicateIdIsAlreadyExists) {
  NewTask t{TaskType::kModelUpload};
  t.id = "0190b3a0-0000-7000-8000-000000000001";
  ASSERT_TRUE(store_->Enqueue(std::vector{t}));
  auto again = store_->Enqueue(std::vector{t});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(PgStoreTest, ConcurrentStartersAndClaimersAcrossStores) {
  // Several "processes" start together on the migrated schema, then race for the same tasks.
  std::vector<NewTask> batch(300, NewTask{TaskType::kModelUpload});
  ASSERT_TRUE(store_->Enqueue(batch));
  std::vector<std::unique_ptr<PostgresTaskStore>> stores(3);
  {
    std::vector<std::thread> openers;
    for (auto& s : stores) openers.emplace_back([&] { s = OpenStore(); });
    for (auto& t : openers) t.join();
  }
  for (auto& s : stores) ASSERT_TRUE(s);
  std::vector<std::vector<std::string>> got(6);
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        auto c = stores[static_cast<size_t>(w % 3)]->Claim(TaskType::kModelUpload, 5,
                                                           "w" + std::to_string(w), kMicrosPerHour);
        ASSERT_TRUE(c) << c.error().message;  // SKIP LOCKED: claimers never fail or wait
        if (c->empty()) break;
        for (auto& t : *c) got[static_cast<size_t>(w)].push_back(t.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  size_t total = 0;
  for (auto& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(all.size(), 300u);
}

TEST(PgStoreOpenTest, UnreachableServerFailsFastWithoutThePassword) {
  PostgresTaskStore::Options options;
  options.url = "postgresql://vz:s3cr3t@127.0.0.1:1/vectorize";
  const auto start = std::chrono::steady_clock::now();
  auto store = PostgresTaskStore::Open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.error().message.find("s3cr3t"), std::string::npos) << store.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace vectorize::tasks
