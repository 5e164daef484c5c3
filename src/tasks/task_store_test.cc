// The storage contract: one suite every TaskStore implementation must pass, run against each
// backend (value-parameterised over testing::Backend): SQLite always, PostgreSQL when
// VECTORIZE_TEST_PG_URL names a server (skipped otherwise; see scripts/test-postgres.sh).
#include "tasks/task_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/uuid.h"
#include "tasks/postgres/postgres_task_store.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_events.h"
#include "tasks/test_util.h"

namespace vectorize::tasks {
namespace {

using testing::Backend;
using testing::StoreEnv;

constexpr Micros kNow = 1'800'000'000LL * kMicrosPerSecond;

// The reference semantics of GET /tasks, written the slow, obvious way.
std::vector<std::string> Reference(const std::vector<TaskDetail>& all, const TaskQuery& q,
                                   Micros now) {
  const Micros cutoff = now - q.within_hours * kMicrosPerHour;
  std::vector<const TaskDetail*> hits;
  for (const auto& t : all) {
    if (!q.types.empty() && std::find(q.types.begin(), q.types.end(), t.type) == q.types.end())
      continue;
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), t.status) == q.statuses.end())
      continue;
    if (q.tag && t.tag != q.tag) continue;
    const bool active = t.status == TaskStatus::kQueued || t.status == TaskStatus::kRunning;
    if (!active && !(t.end_date && *t.end_date >= cutoff)) continue;
    hits.push_back(&t);
  }
  std::sort(hits.begin(), hits.end(), [](const TaskDetail* a, const TaskDetail* b) {
    return std::tie(a->created_at, a->id) > std::tie(b->created_at, b->id);
  });
  std::vector<std::string> ids;
  for (size_t i = static_cast<size_t>(q.offset); i < hits.size(); ++i) {
    if (q.limit && ids.size() >= static_cast<size_t>(*q.limit)) break;
    ids.push_back(hits[i]->id);
  }
  return ids;
}

std::vector<TaskDetail> RandomTasks(int n, std::mt19937_64& rng) {
  std::vector<TaskDetail> out;
  std::uniform_int_distribution<int> type_d(0, 4), status_d(0, 99), tag_d(0, 9);
  // Coarse created_at (whole minutes over 60 days) so that many tasks tie.
  std::uniform_int_distribution<Micros> minute_d(0, 60 * 24 * 60);
  // Lifetimes from seconds to weeks, so every span class is used.
  std::uniform_real_distribution<double> log_span(0, std::log(14.0 * 24 * 3600));
  for (int i = 0; i < n; ++i) {
    TaskDetail t;
    t.id = NewUuidV7();
    t.type = kAllTaskTypes[type_d(rng)];
    const int s = status_d(rng);
    t.status = s < 3    ? TaskStatus::kQueued
               : s < 6  ? TaskStatus::kRunning
               : s < 80 ? TaskStatus::kDone
               : s < 92 ? TaskStatus::kFailed
                        : TaskStatus::kCancelled;
    if (tag_d(rng) < 7) t.tag = "tag-" + std::to_string(tag_d(rng));
    t.created_at = kNow - minute_d(rng) * 60 * kMicrosPerSecond;
    t.updated_at = t.created_at;
    t.run_after = t.created_at;
    if (IsTerminal(t.status)) {
      t.end_date = std::min(
          kNow, t.created_at + static_cast<Micros>(std::exp(log_span(rng)) * kMicrosPerSecond));
    }
    out.push_back(std::move(t));
  }
  return out;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<StoreEnv>(GetParam());
    if (auto why = env_->SkipReason(); !why.empty()) GTEST_SKIP() << why;
    store_ = env_->Open();
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();  // close the connections before the database goes
    env_.reset();
  }
  std::unique_ptr<StoreEnv> env_;
  std::unique_ptr<TaskStore> store_;
};

TEST_P(StoreTest, ListMatchesReferenceForRandomQueries) {
  std::mt19937_64 rng(42);
  auto tasks = RandomTasks(4000, rng);
  ASSERT_TRUE(store_->BulkInsert(tasks));
  std::uniform_int_distribution<int> coin(0, 1), hours_d(0, 4), lim_d(1, 100), off_d(0, 300);
  const std::int64_t hours_choices[] = {1, 6, 24, 168, 2000};
  for (int i = 0; i < 400; ++i) {
    TaskQuery q;
    for (TaskType t : kAllTaskTypes)
      if (coin(rng) && coin(rng)) q.types.push_back(t);
    for (TaskStatus s : kAllTaskStatuses)
      if (coin(rng) && coin(rng)) q.statuses.push_back(s);
    std::sort(q.types.begin(), q.types.end());
    std::sort(q.statuses.begin(), q.statuses.end());
    if (coin(rng) && coin(rng)) q.tag = "tag-" + std::to_string(lim_d(rng) % 10);
    q.within_hours = hours_choices[hours_d(rng)];
    if (coin(rng)) q.limit = lim_d(rng);
    if (coin(rng)) q.offset = off_d(rng);
    auto got = store_->List(q, kNow);
    ASSERT_TRUE(got) << got.error().message;
    std::vector<std::string> ids;
    for (auto& r : *got) ids.push_back(r.id);
    ASSERT_EQ(ids, Reference(tasks, q, kNow)) << "query #" << i;
  }
}

// Every column of every row comes back as written: all optional fields set (with text that
// needs quoting in an array literal) or all unset, and more rows of one table than one
// statement takes.
TEST_P(StoreTest, BulkInsertKeepsEveryField) {
  TaskDetail full;
  full.id = NewUuidV7();
  full.type = TaskType::kSynthesis;
  full.status = TaskStatus::kRunning;
  full.tag = "q\"uo,te {NULL} \\ ü";
  full.created_at = kNow - 5 * kMicrosPerSecond;
  full.started_at = kNow - 4 * kMicrosPerSecond;
  full.updated_at = kNow - 3 * kMicrosPerSecond;
  full.end_date = kNow - 2 * kMicrosPerSecond;
  full.error_msg = "NULL";
  full.progress = 1.0 / 3;
  full.progress_msg = "";
  full.attempts = 2;
  full.max_attempts = 7;
  full.run_after = kNow - 1;
  full.worker_id = "w\t1";
  full.lease_expires_at = kNow + 1;
  full.cancel_requested = true;
  full.inputs = R"({"a":"b\"c","d":[1,2]})";
  full.result = R"({"x":null})";
  TaskDetail sparse;
  sparse.id = NewUuidV7();
  sparse.type = TaskType::kSynthesis;
  sparse.created_at = sparse.updated_at = sparse.run_after = kNow;
  std::vector<TaskDetail> tasks{full, sparse};
  for (int i = 0; i < 4100; ++i) {  // over two statements' worth on PostgreSQL
    TaskDetail t = sparse;
    t.id = NewUuidV7();
    t.type = TaskType::kEvaluation;
    tasks.push_back(t);
  }
  ASSERT_TRUE(store_->BulkInsert(tasks));
  for (const TaskDetail* want : {&full, &sparse}) {
    auto got = store_->Get(want->id);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->type, want->type);
    EXPECT_EQ(got->status, want->status);
    EXPECT_EQ(got->tag, want->tag);
    EXPECT_EQ(got->created_at, want->created_at);
    EXPECT_EQ(got->started_at, want->started_at);
    EXPECT_EQ(got->updated_at, want->updated_at);
    EXPECT_EQ(got->end_date, want->end_date);
    EXPECT_EQ(got->error_msg, want->error_msg);
    EXPECT_EQ(got->progress, want->progress);  // exactly: the text form reads back the same
    EXPECT_EQ(got->progress_msg, want->progress_msg);
    EXPECT_EQ(got->attempts, want->attempts);
    EXPECT_EQ(got->max_attempts, want->max_attempts);
    EXPECT_EQ(got->run_after, want->run_after);
    EXPECT_EQ(got->worker_id, want->worker_id);
    EXPECT_EQ(got->lease_expires_at, want->lease_expires_at);
    EXPECT_EQ(got->cancel_requested, want->cancel_requested);
    EXPECT_EQ(got->inputs, want->inputs);
    EXPECT_EQ(got->result, want->result);
  }
  TaskQuery all;
  all.types = {TaskType::kEvaluation};
  all.within_hours = 1;
  auto listed = store_->List(all, kNow);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 4100u);
}

TEST_P(StoreTest, PagesNeverOverlapOrSkipEvenWithTies) {
  std::vector<TaskDetail> tasks;
  for (int i = 0; i < 250; ++i) {
    TaskDetail t;
    t.id = NewUuidV7();
    t.type = kAllTaskTypes[i % 5];
    t.status = TaskStatus::kDone;
    t.created_at = kNow - (i / 50) * kMicrosPerSecond;  // 50 tasks share each timestamp
    t.end_date = kNow;
    t.updated_at = t.run_after = t.created_at;
    tasks.push_back(t);
  }
  ASSERT_TRUE(store_->BulkInsert(tasks));
  std::vector<std::string> seen;
  TaskQuery q;
  q.limit = 7;
  for (q.offset = 0;; q.offset += 7) {
    auto page = store_->List(q, kNow);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    for (auto& r : *page) seen.push_back(r.id);
  }
  ASSERT_EQ(seen.size(), 250u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 250u);
  TaskQuery all;
  auto everything = store_->List(all, kNow);
  ASSERT_TRUE(everything);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], (*everything)[i].id);
}

TEST_P(StoreTest, ActiveTasksAreNeverHiddenByTheWindow) {
  TaskDetail old_running;
  old_running.id = NewUuidV7();
  old_running.type = TaskType::kTraining;
  old_running.status = TaskStatus::kRunning;
  old_running.created_at = kNow - 90LL * 24 * kMicrosPerHour;
  TaskDetail old_done = old_running;
  old_done.id = NewUuidV7();
  old_done.status = TaskStatus::kDone;
  old_done.end_date = kNow - 2 * kMicrosPerHour;
  TaskDetail long_run = old_done;  // created long ago, ended 30 minutes ago
  long_run.id = NewUuidV7();
  long_run.end_date = kNow - kMicrosPerHour / 2;
  ASSERT_TRUE(store_->BulkInsert(std::vector{old_running, old_done, long_run}));
  auto got = store_->List(TaskQuery{}, kNow);
  ASSERT_TRUE(got);
  std::set<std::string> ids;
  for (auto& r : *got) ids.insert(r.id);
  EXPECT_EQ(ids, (std::set<std::string>{old_running.id, long_run.id}));
}

// The seed's query shapes, for the plan checks.
const std::vector<std::vector<std::pair<std::string, std::string>>>& PlanQueries() {
  static const std::vector<std::vector<std::pair<std::string, std::string>>> queries = {
      {},
      {{"limit", "100"}},
      {{"within_hours", "720"}, {"limit", "50"}, {"offset", "5000"}},
      {{"status", "R"}, {"status", "Q"}, {"within_hours", "720"}},
      {{"task_type", "training"}, {"tag", "tag-0042"}, {"within_hours", "720"}},
      {{"status", "F"}, {"within_hours", "24"}}};
  return queries;
}

void CheckSqlitePlans(SqliteTaskStore& store) {
  for (const auto& params : PlanQueries()) {
    auto q = ParseTaskQuery(params);
    ASSERT_TRUE(q);
    auto plan = store.ExplainQueryPlan(BuildListStatement(*q, kNow, storage::Dialect::kSqlite));
    ASSERT_TRUE(plan) << plan.error().message;
    std::string prev;
    for (const auto& line : *plan) {
      // No task table is scanned: only `page`, the ≤ limit keys of a two-phase page.
      if (line.find("SCAN") != std::string::npos) {
        EXPECT_EQ(line, "SCAN page") << "full scan in plan";
      }
      // Every arm comes out in index order and is merged lazily; only the second phase of a
      // two-phase page (≤ limit rows fetched by primary key) is sorted.
      if (line.find("TEMP B-TREE") != std::string::npos) {
        EXPECT_NE(prev.find("(id=?)"), std::string::npos) << line << " after " << prev;
      }
      prev = line;
    }
  }
}

// PostgreSQL plans by statistics: the tables get enough rows (60 days of tasks, 30,000 per type,
// written by the server itself) and ANALYZE, so that a full scan or a sort of the window costs
// what it would at scale.
void CheckPostgresPlans(PostgresTaskStore& store, const std::string& url) {
  // PostgreSQL 15 does not flatten UNION ALL arms that have WHERE clauses into an append
  // relation (is_safe_append_member), so without a per-arm ORDER BY … LIMIT in the kPostgres
  // statement the page is a sort of the whole window. Remove this skip together with that change
  // to BuildListStatement (proposed in the issue 3 hand-over).
  auto conn = storage::postgres::Connection::Open({url});
  ASSERT_TRUE(conn) << conn.error().message;
  for (TaskType type : kAllTaskTypes) {
    auto filled = (*conn)->Query(
        fmt::format(
            "INSERT INTO {} (id, task_status, tag, created_at, updated_at, run_after, end_date) "
            "SELECT lpad(to_hex(g), 36, '0'), s, CASE WHEN g % 10 < 7 THEN 'tag-' || (g % 1000) "
            "END, "
            "c, c, c, CASE WHEN s IN ('D', 'F', 'C') THEN least($1, c + (g % 1000) * 600000000) "
            "END "
            "FROM (SELECT g, $1 - g * 103680000 AS c, CASE WHEN g % 100 < 3 THEN 'Q' "
            "WHEN g % 100 < 6 THEN 'R' WHEN g % 100 < 80 THEN 'D' WHEN g % 100 < 92 THEN 'F' "
            "ELSE 'C' END AS s FROM generate_series(1::bigint, 30000) g) x",
            TaskTable(type)),
        {kNow}, false);
    ASSERT_TRUE(filled) << filled.error().message;
  }
  ASSERT_TRUE((*conn)->Exec("ANALYZE"));
  for (const auto& params : PlanQueries()) {
    auto q = ParseTaskQuery(params);
    ASSERT_TRUE(q);
    auto plan = store.ExplainQueryPlan(BuildListStatement(*q, kNow, storage::Dialect::kPostgres));
    ASSERT_TRUE(plan) << plan.error().message;
    std::string text;
    for (const auto& line : *plan) text += line + "\n";
    // No task table is scanned whole: every arm is an index (range) scan.
    EXPECT_EQ(text.find("Seq Scan on"), std::string::npos) << "full scan in plan:\n" << text;
    // A page is a lazy merge of ordered index scans, not a sort of the window.
    if (q->limit) {
      EXPECT_NE(text.find("Merge Append"), std::string::npos) << text;
    }
  }
  // Paginated pages are prepared statements, and after five runs PostgreSQL may switch to a
  // generic plan (parameters unknown). The straddling arm's OFFSET 0 fence must keep it a
  // bitmap of the short span-class ranges there too: unfenced, the page's ORDER BY … LIMIT is
  // pushed into an ordered scan of created_at filtered on end_date, which reads the whole
  // index when nothing straddles the cutoff (245–355 ms instead of 1.5 ms at 1M tasks).
  ASSERT_TRUE((*conn)->Exec("SET plan_cache_mode = force_generic_plan"));
  for (const auto& params : PlanQueries()) {
    auto q = ParseTaskQuery(params);
    ASSERT_TRUE(q);
    if (!q->limit) continue;
    const auto st = BuildListStatement(*q, kNow, storage::Dialect::kPostgres);
    std::string types, values;
    for (const auto& v : st.params) {
      types += types.empty() ? "" : ",";
      values += values.empty() ? "" : ",";
      if (const auto* i = std::get_if<std::int64_t>(&v)) {
        types += "int8";
        values += std::to_string(*i);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        types += "text";
        std::string quoted = "'";
        for (char c : *t) quoted += c == '\'' ? std::string("''") : std::string(1, c);
        values += quoted + "'";
      } else if (std::holds_alternative<std::monostate>(v)) {
        types += "text";  // a NULL the statement does not reference
        values += "NULL";
      } else {
        FAIL() << "unexpected parameter type in " << st.sql;
      }
    }
    ASSERT_TRUE((*conn)->Exec("DEALLOCATE ALL"));
    ASSERT_TRUE((*conn)->Exec(fmt::format("PREPARE page({}) AS {}", types, st.sql)));
    auto rows = (*conn)->Query(fmt::format("EXPLAIN EXECUTE page({})", values), {}, false);
    ASSERT_TRUE(rows) << rows.error().message;
    std::string text;
    for (int i = 0; i < rows->size(); ++i) text += rows->Text(i, 0) + "\n";
    EXPECT_EQ(text.find("Seq Scan on"), std::string::npos) << "generic plan:\n" << text;
    EXPECT_NE(text.find("BitmapOr"), std::string::npos)
        << "the straddling arm is not a bitmap of span-class ranges in the generic plan:\n"
        << text;
  }
}

TEST_P(StoreTest, QueriesUseIndexesNotFullScans) {
  if (auto* sqlite = dynamic_cast<SqliteTaskStore*>(store_.get())) {
    CheckSqlitePlans(*sqlite);
  } else if (auto* pg = dynamic_cast<PostgresTaskStore*>(store_.get())) {
    CheckPostgresPlans(*pg, env_->pg()->url());
  }
}

TEST_P(StoreTest, EnqueueGetCancelRetry) {
  auto ids = store_->Enqueue(std::vector<NewTask>{{TaskType::kEvaluation, "exp", R"({"a":1})"}});
  ASSERT_TRUE(ids);
  auto t = store_->Get(ids->at(0));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, TaskStatus::kQueued);
  EXPECT_EQ(t->type, TaskType::kEvaluation);
  EXPECT_EQ(t->tag, "exp");
  EXPECT_EQ(t->inputs, R"({"a":1})");
  EXPECT_EQ(t->attempts, 1);

  EXPECT_EQ(store_->Cancel(ids->at(0), std::nullopt).value(), CancelOutcome::kCancelled);
  t = store_->Get(ids->at(0));
  EXPECT_EQ(t->status, TaskStatus::kCancelled);
  EXPECT_TRUE(t->end_date);
  auto again = store_->Cancel(ids->at(0), std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);

  auto retried = store_->Retry(ids->at(0), 3);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, TaskStatus::kQueued);
  EXPECT_EQ(retried->attempts, 2);
  EXPECT_FALSE(retried->end_date);
  auto bad_retry = store_->Retry(ids->at(0), 3);
  ASSERT_FALSE(bad_retry);
  EXPECT_EQ(bad_retry.error().code, ErrorCode::kFailedPrecondition);

  auto missing = store_->Get(NewUuidV7());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Cancel(NewUuidV7(), std::nullopt).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, EnqueueRejectsBadInput) {
  auto r = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining, std::nullopt, "[1]"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, CompletesManyRunsInOneBatchWithAwkwardText) {
  std::vector<NewTask> batch(4, NewTask{TaskType::kEvaluation});
  ASSERT_TRUE(store_->Enqueue(batch));
  auto claimed = store_->Claim(TaskType::kEvaluation, 4, "w\"1", kMicrosPerHour);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 4u);
  auto lease = [&](int i) {
    return LeaseRef{(*claimed)[i].id, TaskType::kEvaluation, "w\"1", (*claimed)[i].attempts};
  };
  const std::string nasty = "quote \" back\\slash {brace}, comma NULL \u00fc \n newline";
  std::vector<Completion> outcomes = {
      {lease(0), Completion::Kind::kDone, std::nullopt, R"({"a":"b\"c"})"},
      {lease(1), Completion::Kind::kFailed, nasty},
      {lease(2), Completion::Kind::kCancelled, std::string("NULL")},
      // A stale attempt in the same batch is fenced out; the others still land.
      {LeaseRef{(*claimed)[3].id, TaskType::kEvaluation, "w\"1", 99}, Completion::Kind::kDone},
  };
  outcomes[0].progress_msg = "step 3/3";
  ASSERT_TRUE(store_->Complete(outcomes));
  auto t0 = store_->Get((*claimed)[0].id).value();
  EXPECT_EQ(t0.status, TaskStatus::kDone);
  EXPECT_EQ(t0.result, R"({"a":"b\"c"})");
  EXPECT_EQ(t0.progress_msg, "step 3/3");
  EXPECT_EQ(t0.progress, 1.0);
  auto t1 = store_->Get((*claimed)[1].id).value();
  EXPECT_EQ(t1.status, TaskStatus::kFailed);
  EXPECT_EQ(t1.error_msg, nasty);
  auto t2 = store_->Get((*claimed)[2].id).value();
  EXPECT_EQ(t2.status, TaskStatus::kCancelled);
  EXPECT_EQ(t2.error_msg, "NULL");
  EXPECT_EQ(store_->Get((*claimed)[3].id).value().status, TaskStatus::kRunning);
}

TEST_P(StoreTest, ClaimIsOldestFirstAndFenced) {
  std::vector<NewTask> batch(5, NewTask{TaskType::kSynthesis});
  auto ids = store_->Enqueue(batch);
  ASSERT_TRUE(ids);
  auto claimed = store_->Claim(TaskType::kSynthesis, 2, "w1", 60 * kMicrosPerSecond);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].id, (*ids)[0]);
  EXPECT_EQ((*claimed)[1].id, (*ids)[1]);
  EXPECT_EQ((*claimed)[0].status, TaskStatus::kRunning);
  EXPECT_EQ((*claimed)[0].worker_id, "w1");

  // Another worker's (or a stale attempt's) completion is ignored.
  LeaseRef stale{(*ids)[0], TaskType::kSynthesis, "w2", 1};
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{{stale, Completion::Kind::kDone}}));
  EXPECT_EQ(store_->Get((*ids)[0])->status, TaskStatus::kRunning);
  LeaseRef mine{(*ids)[0], TaskType::kSynthesis, "w1", 1};
  ASSERT_TRUE(store_->Complete(
      std::vector<Completion>{{mine, Completion::Kind::kDone, std::nullopt, R"({"x":1})"}}));
  auto done = store_->Get((*ids)[0]);
  EXPECT_EQ(done->status, TaskStatus::kDone);
  EXPECT_EQ(done->progress, 1.0);
  EXPECT_EQ(done->result, R"({"x":1})");
  EXPECT_FALSE(done->worker_id);
}

TEST_P(StoreTest, ProgressIsFencedAndTheLastMessageRidesWithTheOutcome) {
  auto ids = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining}});
  ASSERT_TRUE(ids);
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour)->size(), 1u);
  LeaseRef mine{ids->at(0), TaskType::kTraining, "w1", 1};
  LeaseRef stale{ids->at(0), TaskType::kTraining, "w2", 1};
  ASSERT_TRUE(store_->ReportProgress(mine, 0.5, "step 1/2"));
  ASSERT_TRUE(store_->ReportProgress(stale, 0.9, "not mine"));
  auto t = store_->Get(ids->at(0));
  EXPECT_EQ(t->progress, 0.5);
  EXPECT_EQ(t->progress_msg, "step 1/2");
  Completion done;
  done.lease = mine;
  done.kind = Completion::Kind::kDone;
  done.progress_msg = std::string("step 2/2");
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{done}));
  t = store_->Get(ids->at(0));
  EXPECT_EQ(t->status, TaskStatus::kDone);
  EXPECT_EQ(t->progress, 1.0);
  EXPECT_EQ(t->progress_msg, "step 2/2");
  // Cancel of a running task is a request; the run sees it through CancelRequested.
  auto ids2 = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining}});
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour)->size(), 1u);
  LeaseRef run2{ids2->at(0), TaskType::kTraining, "w1", 1};
  EXPECT_TRUE(store_->CancelRequested(std::vector{run2})->empty());
  EXPECT_EQ(store_->Cancel(ids2->at(0), "stop").value(), CancelOutcome::kRequested);
  EXPECT_EQ(store_->CancelRequested(std::vector{run2})->size(), 1u);
  EXPECT_TRUE(store_->Ping());
}

// The reason given with a cancel request outlives the run: the task ends C with it as its
// error_msg whether the job stops, the worker is lost, or no reason was given (then the
// job's or the engine's own message).
TEST_P(StoreTest, ACancelledRunKeepsTheReasonItWasCancelledWith) {
  auto ids = store_->Enqueue(std::vector<NewTask>(3, NewTask{TaskType::kEvaluation}));
  ASSERT_TRUE(ids);
  ASSERT_EQ(store_->Claim(TaskType::kEvaluation, 2, "w1", kMicrosPerHour)->size(), 2u);
  ASSERT_EQ(store_->Claim(TaskType::kEvaluation, 1, "w2", -1)->size(), 1u);  // lease expired
  const std::string& stopped = ids->at(0);
  const std::string& silent = ids->at(1);
  const std::string& lost = ids->at(2);
  EXPECT_EQ(store_->Cancel(stopped, "wrong dataset").value(), CancelOutcome::kRequested);
  EXPECT_EQ(store_->Cancel(silent, std::nullopt).value(), CancelOutcome::kRequested);
  EXPECT_EQ(store_->Cancel(lost, "user said stop").value(), CancelOutcome::kRequested);
  std::vector<Completion> ends(2);
  ends[0].lease = {stopped, TaskType::kEvaluation, "w1", 1};
  ends[1].lease = {silent, TaskType::kEvaluation, "w1", 1};
  for (auto& c : ends) {
    c.kind = Completion::Kind::kCancelled;
    c.error_msg = "cancelled (the job did not stop within the grace period; ended by the engine)";
  }
  ASSERT_TRUE(store_->Complete(ends));
  ASSERT_TRUE(store_->RescueExpired());
  for (const auto& [id, want] : std::vector<std::pair<std::string, std::string>>{
           {stopped, "wrong dataset"},
           {silent,
            "cancelled (the job did not stop within the grace period; ended by the engine)"},
           {lost, "user said stop"}}) {
    auto t = store_->Get(id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->status, TaskStatus::kCancelled) << id;
    EXPECT_EQ(t->error_msg, want) << id;
  }
  // A run that finishes D despite a cancel request does not carry the reason as an error.
  auto more = store_->Enqueue(std::vector<NewTask>{{TaskType::kEvaluation}});
  ASSERT_EQ(store_->Claim(TaskType::kEvaluation, 1, "w1", kMicrosPerHour)->size(), 1u);
  ASSERT_TRUE(store_->Cancel(more->at(0), "too late"));
  Completion done;
  done.lease = {more->at(0), TaskType::kEvaluation, "w1", 1};
  done.kind = Completion::Kind::kDone;
  ASSERT_TRUE(store_->Complete(std::vector<Completion>{done}));
  auto d = store_->Get(more->at(0));
  EXPECT_EQ(d->status, TaskStatus::kDone);
  EXPECT_FALSE(d->error_msg);
}

TEST_P(StoreTest, ConcurrentClaimsNeverShareATask) {
  std::vector<NewTask> batch(600, NewTask{TaskType::kDatasetUpload});
  ASSERT_TRUE(store_->Enqueue(batch));
  // A second store instance = a second connection set, as another process would have.
  auto other = env_->Open();
  ASSERT_TRUE(other);
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      TaskStore& s = w % 2 ? *other : *store_;
      for (;;) {
        auto c = s.Claim(TaskType::kDatasetUpload, 7, "w" + std::to_string(w), kMicrosPerHour);
        if (!c) continue;  // busy: try again
        if (c->empty()) break;
        for (auto& t : *c) got[w].push_back(t.id);
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
  EXPECT_EQ(total, 600u);
  EXPECT_EQ(all.size(), 600u);
}

TEST_P(StoreTest, RescueRequeuesThenFailsAfterMaxAttempts) {
  auto ids = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining, {}, "{}", 2}});
  ASSERT_TRUE(ids);
  const std::string id = ids->at(0);
  // Attempt 1: lease expires at once.
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", -1)->size(), 1u);
  auto rep = store_->RescueExpired();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->requeued, 1);
  EXPECT_EQ(rep->ids, std::vector<std::string>{id});  // for change events
  auto t = store_->Get(id);
  EXPECT_EQ(t->status, TaskStatus::kQueued);
  EXPECT_EQ(t->attempts, 2);
  // Attempt 2 (the last): lost too → F "worker lost".
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", -1)->size(), 1u);
  rep = store_->RescueExpired();
  EXPECT_EQ(rep->failed, 1);
  t = store_->Get(id);
  EXPECT_EQ(t->status, TaskStatus::kFailed);
  EXPECT_EQ(t->error_msg, "worker lost");
  EXPECT_TRUE(t->end_date);
  // A live lease is left alone.
  auto ids2 = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining}});
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour)->size(), 1u);
  EXPECT_EQ(store_->RescueExpired()->requeued, 0);
  EXPECT_EQ(store_->Get(ids2->at(0))->status, TaskStatus::kRunning);
}

TEST_P(StoreTest, OldestQueuedIsPerTypeAndIgnoresOtherStates) {
  auto none = store_->OldestQueued();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  auto first = store_->Enqueue(std::vector<NewTask>{{TaskType::kEvaluation}});
  ASSERT_TRUE(first);
  const Micros first_at = store_->Get(first->at(0))->created_at;
  ASSERT_TRUE(
      store_->Enqueue(std::vector<NewTask>{{TaskType::kEvaluation}, {TaskType::kSynthesis}}));
  auto oldest = store_->OldestQueued();
  ASSERT_TRUE(oldest);
  std::map<TaskType, Micros> by_type(oldest->begin(), oldest->end());
  EXPECT_EQ(by_type.size(), 2u);
  EXPECT_EQ(by_type[TaskType::kEvaluation], first_at);
  // Once claimed (R) it no longer counts: the next queued one is the oldest.
  ASSERT_EQ(store_->Claim(TaskType::kEvaluation, 1, "w1", kMicrosPerHour)->size(), 1u);
  oldest = store_->OldestQueued();
  ASSERT_TRUE(oldest);
  by_type = std::map<TaskType, Micros>(oldest->begin(), oldest->end());
  EXPECT_GE(by_type[TaskType::kEvaluation], first_at);
  ASSERT_EQ(store_->Claim(TaskType::kEvaluation, 1, "w1", kMicrosPerHour)->size(), 1u);
  oldest = store_->OldestQueued();
  ASSERT_TRUE(oldest);
  EXPECT_EQ(oldest->size(), 1u);
  EXPECT_EQ(oldest->at(0).first, TaskType::kSynthesis);
}

TEST_P(StoreTest, RenewReportsLostLeases) {
  auto ids = store_->Enqueue(std::vector<NewTask>{{TaskType::kTraining}});
  ASSERT_EQ(store_->Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour)->size(), 1u);
  LeaseRef mine{ids->at(0), TaskType::kTraining, "w1", 1};
  LeaseRef stale{ids->at(0), TaskType::kTraining, "w1", 7};
  auto lost = store_->RenewLeases(std::vector{mine, stale}, kMicrosPerHour);
  ASSERT_TRUE(lost);
  ASSERT_EQ(lost->size(), 1u);
  EXPECT_EQ(lost->at(0).attempt, 7);
}

TEST_P(StoreTest, StatsCountPerTypeAndStatusOfWhatTheListShows) {
  std::mt19937_64 rng(7);
  auto tasks = RandomTasks(1500, rng);
  ASSERT_TRUE(store_->BulkInsert(tasks));
  std::vector<TaskQuery> queries;
  for (std::int64_t hours : {1, 24, 2000}) queries.push_back(TaskQuery{.within_hours = hours});
  queries.push_back(
      TaskQuery{.types = {TaskType::kTraining, TaskType::kEvaluation}, .within_hours = 2000});
  queries.push_back(TaskQuery{.tag = "tag-3", .within_hours = 24});
  queries.push_back(TaskQuery{.types = {TaskType::kSynthesis},
                              .statuses = {TaskStatus::kFailed, TaskStatus::kCancelled},
                              .tag = "tag-1",
                              .within_hours = 2000});
  for (const TaskQuery& q : queries) {
    const auto hours = q.within_hours;
    auto stats = store_->Stats(q, kNow);
    ASSERT_TRUE(stats);
    std::map<std::pair<TaskType, TaskStatus>, std::int64_t> expect;
    for (const auto& id : Reference(tasks, q, kNow)) {
      auto it = std::find_if(tasks.begin(), tasks.end(), [&](auto& t) { return t.id == id; });
      ++expect[{it->type, it->status}];
    }
    std::map<std::pair<TaskType, TaskStatus>, std::int64_t> got;
    for (auto& r : *stats) got[{r.type, r.status}] = r.count;
    EXPECT_EQ(got, expect) << hours;
  }
}

// Every write of the store that changes a task is reported, with the ids it touched, on both
// backends; reads report nothing.
TEST_P(StoreTest, ObservedStoreReportsEveryChange) {
  TaskEventLog log(1000, 0);
  ObservedTaskStore store(*store_, log);
  auto changed = [&](std::uint64_t& at) {
    auto b = log.ReadAfter(at, UINT64_MAX, 1000);
    at = log.last_seq();
    std::vector<std::string> ids;
    for (const auto& e : b.entries) ids.push_back(e.task_id);
    return ids;
  };
  std::uint64_t at = 0;
  auto ids = store.Enqueue(std::vector<NewTask>{{TaskType::kTraining}, {TaskType::kTraining}});
  ASSERT_TRUE(ids);
  EXPECT_EQ(changed(at), *ids);
  auto claimed = store.Claim(TaskType::kTraining, 1, "w1", kMicrosPerHour);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(changed(at), std::vector<std::string>{ids->at(0)});
  LeaseRef run{ids->at(0), TaskType::kTraining, "w1", 1};
  ASSERT_TRUE(store.ReportProgress(run, 0.5, "half"));
  EXPECT_EQ(changed(at), std::vector<std::string>{ids->at(0)});
  auto next = store.CompleteAndClaim(std::vector<Completion>{{run, Completion::Kind::kDone}},
                                     std::vector<TaskStore::ClaimRequest>{{TaskType::kTraining, 1}},
                                     "w1", -1);
  ASSERT_TRUE(next);
  EXPECT_EQ(changed(at), *ids);          // the finished one, then the one claimed
  auto rescued = store.RescueExpired();  // the second one's lease (-1) has expired
  ASSERT_TRUE(rescued);
  EXPECT_EQ(changed(at), std::vector<std::string>{ids->at(1)});
  ASSERT_TRUE(store.Cancel(ids->at(1), "stop"));
  EXPECT_EQ(changed(at), std::vector<std::string>{ids->at(1)});
  ASSERT_TRUE(store.Retry(ids->at(1), 3));
  EXPECT_EQ(changed(at), std::vector<std::string>{ids->at(1)});
  // Reads and failed writes change nothing.
  ASSERT_TRUE(store.Get(ids->at(0)));
  ASSERT_TRUE(store.List(TaskQuery{}, NowMicros()));
  EXPECT_FALSE(store.Retry(ids->at(0), 3));  // D cannot be retried
  EXPECT_TRUE(changed(at).empty());
}

INSTANTIATE_TEST_SUITE_P(Backend, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return testing::BackendName(info.param);
                         });

}  // namespace
}  // namespace vectorize::tasks
