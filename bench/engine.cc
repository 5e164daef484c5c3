// engine_bench: task engine throughput on SQLite (SPEC §4: ≥ 20,000 no-op tasks/s, enqueue → done).
//
//   engine_bench [--tasks N] [--batch B] [--concurrency C] [--types 1|5] [--job noop|scripted]
//                [--mode live|preload|both] [--data-dir DIR] [--keep] [--breakdown]
//
// Each mode runs in a fresh SQLite data directory with the real SqliteTaskStore and Engine:
//   live     the engine runs while N tasks are enqueued through Engine::Enqueue in batches of B;
//            measures the enqueue rate under load and enqueue-start → all-done tasks/s.
//   store    no engine: one thread claims batches of 1, 8 and 64 and completes each batch in one
//            call — the ceiling the SQLite store itself puts on throughput.
//   preload  N tasks are enqueued first with no engine running (pure enqueue rate), then the
//            engine starts and drains them (claim → run → complete tasks/s).
// "All done" is when the engine has reported N completions and Stop() has flushed the last
// outcomes to the database, so the figure includes the final commit. The bench then checks
// through the store (Stats) that exactly N tasks are D and none are in any other state.
//
// Jobs: noop = a Job that returns ok at once (the engine's own overhead); scripted = the test
// ScriptedJob with inputs "{}" (parses its inputs and reports progress once per run).
// --breakdown wraps the store in a counting decorator: calls, items per call and time per store
// method (where the time goes, without a profiler).

#include "tasks/engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "http/routes/task_events_routes.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_events.h"
#include "tasks/testing/scripted_job.h"

namespace {

using namespace vectorize;
using namespace vectorize::tasks;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class NoopJob : public Job {
 public:
  Status Run(JobContext&) override { return {}; }
};

// Forwards to the real store and records, per method, the calls, the items they carried and the
// wall time spent inside (waiting for the write mutex included): the timing breakdown.
class CountingStore final : public TaskStore {
 public:
  enum Method {
    kEnqueue,
    kClaim,
    kComplete,
    kCompleteClaim,
    kProgress,
    kRenew,
    kCancelReq,
    kRescue,
    kStats,
    kOther,
    kMethods
  };
  static constexpr const char* kNames[kMethods] = {
      "Enqueue",        "Claim",       "Complete",        "CompleteAndClaim",
      "ReportProgress", "RenewLeases", "CancelRequested", "RescueExpired",
      "Stats",          "other"};
  struct Tally {
    std::atomic<std::uint64_t> calls{0}, items{0}, nanos{0};
  };

  explicit CountingStore(TaskStore& inner) : inner_(inner) {}
  const Tally& tally(int m) const { return tallies_[m]; }

  template <typename Fn>
  auto Timed(Method m, size_t items, Fn&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = fn();
    Record(m, items, t0);
    return r;
  }
  void Record(Method m, size_t items, std::chrono::steady_clock::time_point t0) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    tallies_[m].calls.fetch_add(1, std::memory_order_relaxed);
    tallies_[m].items.fetch_add(items, std::memory_order_relaxed);
    tallies_[m].nanos.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }

  Result<std::vector<std::string>> Enqueue(std::span<const NewTask> tasks) override {
    return Timed(kEnqueue, tasks.size(), [&] { return inner_.Enqueue(tasks); });
  }
  Status BulkInsert(std::span<const TaskDetail> tasks) override {
    return Timed(kOther, tasks.size(), [&] { return inner_.BulkInsert(tasks); });
  }
  Result<std::vector<TaskRecord>> List(const TaskQuery& q, Micros now) override {
    return Timed(kOther, 0, [&] { return inner_.List(q, now); });
  }
  Result<TaskDetail> Get(std::string_view id) override {
    return Timed(kOther, 1, [&] { return inner_.Get(id); });
  }
  Result<std::vector<std::pair<TaskType, Micros>>> OldestQueued() override {
    return inner_.OldestQueued();
  }
  Result<std::vector<StatsRow>> Stats(const TaskQuery& q, Micros now) override {
    return Timed(kStats, 0, [&] { return inner_.Stats(q, now); });
  }
  Result<CancelOutcome> Cancel(std::string_view id, std::optional<std::string> r) override {
    return Timed(kOther, 1, [&] { return inner_.Cancel(id, std::move(r)); });
  }
  Result<TaskDetail> Retry(std::string_view id, int budget) override {
    return Timed(kOther, 1, [&] { return inner_.Retry(id, budget); });
  }
  Result<std::vector<TaskDetail>> Claim(TaskType type, int max, const std::string& worker,
                                        Micros lease) override {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = inner_.Claim(type, max, worker, lease);
    Record(kClaim, r ? r->size() : 0, t0);
    return r;
  }
  Result<std::vector<LeaseRef>> RenewLeases(std::span<const LeaseRef> runs, Micros l) override {
    return Timed(kRenew, runs.size(), [&] { return inner_.RenewLeases(runs, l); });
  }
  Result<std::vector<LeaseRef>> CancelRequested(std::span<const LeaseRef> runs) override {
    return Timed(kCancelReq, runs.size(), [&] { return inner_.CancelRequested(runs); });
  }
  Status ReportProgress(const LeaseRef& run, std::optional<double> p,
                        const std::string& m) override {
    return Timed(kProgress, 1, [&] { return inner_.ReportProgress(run, p, m); });
  }
  Status Complete(std::span<const Completion> c) override {
    return Timed(kComplete, c.size(), [&] { return inner_.Complete(c); });
  }
  Result<std::vector<TaskDetail>> CompleteAndClaim(std::span<const Completion> c,
                                                   std::span<const ClaimRequest> claims,
                                                   const std::string& worker,
                                                   Micros lease) override {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = inner_.CompleteAndClaim(c, claims, worker, lease);
    Record(kCompleteClaim, c.size() + (r ? r->size() : 0), t0);
    return r;
  }
  Result<RescueReport> RescueExpired() override {
    return Timed(kRescue, 0, [&] { return inner_.RescueExpired(); });
  }
  Status Ping() override { return inner_.Ping(); }

 private:
  TaskStore& inner_;
  Tally tallies_[kMethods];
};

struct Settings {
  std::int64_t tasks = 100'000;
  int batch = 1'000;
  int concurrency = 8;
  int types = 1;
  std::string job = "noop";
  std::string data_dir;
  bool keep = false;
  bool breakdown = false;
  // none: the bare store; log: every change reported to a TaskEventLog (what `serve` does with no
  // event-stream client); client: plus one GET /tasks/events client (the real broadcaster, a sink
  // that discards the bytes).
  std::string events = "none";
};

// A StreamSink that counts what it is given.
class NullSink final : public vectorize::http::StreamSink {
 public:
  bool Write(std::string bytes) override {
    bytes_ += bytes.size();
    events_ += bytes.starts_with("id:") ? 1 : 0;
    return true;
  }
  void Close() override {}
  bool IsOpen() const override { return true; }
  std::atomic<std::uint64_t> bytes_{0}, events_{0};
};

struct Outcome {
  bool ok = false;
  double enqueue_s = 0, run_s = 0, total_s = 0, stop_s = 0;
  EngineCounters counters;
};

std::vector<TaskType> Types(const Settings& s) {
  if (s.types == 5) return {kAllTaskTypes.begin(), kAllTaskTypes.end()};
  return {TaskType::kTraining};
}

Status EnqueueAll(
    const Settings& s,
    const std::function<Result<std::vector<std::string>>(std::span<const NewTask>)>& enqueue) {
  const auto types = Types(s);
  std::vector<NewTask> batch;
  std::int64_t made = 0;
  while (made < s.tasks) {
    batch.clear();
    const std::int64_t n = std::min<std::int64_t>(s.batch, s.tasks - made);
    for (std::int64_t i = 0; i < n; ++i, ++made) {
      NewTask t;
      t.type = types[static_cast<size_t>(made) % types.size()];
      t.inputs = "{}";
      batch.push_back(std::move(t));
    }
    auto ids = enqueue(batch);
    if (!ids) return Fail(ids.error());
  }
  return {};
}

// Checks through the store that exactly N tasks exist and all are D.
bool Verify(TaskStore& store, std::int64_t n) {
  auto stats = store.Stats(TaskQuery{.within_hours = 24}, NowMicros());
  if (!stats) {
    std::printf("  check: Stats failed: %s\n", stats.error().message.c_str());
    return false;
  }
  std::int64_t per_status[5] = {};
  for (const StatsRow& r : *stats) per_status[static_cast<int>(r.status)] += r.count;
  const bool ok =
      per_status[2] == n && per_status[0] + per_status[1] + per_status[3] + per_status[4] == 0;
  std::printf("  check: %lld D (expected %lld), Q %lld, R %lld, F %lld, C %lld -> %s\n",
              static_cast<long long>(per_status[2]), static_cast<long long>(n),
              static_cast<long long>(per_status[0]), static_cast<long long>(per_status[1]),
              static_cast<long long>(per_status[3]), static_cast<long long>(per_status[4]),
              ok ? "OK" : "MISMATCH");
  return ok;
}

// The store alone, one thread, no engine: claim up to `claim` tasks, complete them D in one
// Complete call, repeat. The ceiling the SQLite store puts on any engine built on it.
void RunStoreOnly(const Settings& s, int claim) {
  const std::string dir = (s.data_dir.empty() ? std::filesystem::temp_directory_path().string() +
                                                    "/vectorize-engine-bench"
                                              : s.data_dir) +
                          "/store";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = SqliteTaskStore::Open({dir + "/vectorize.db", 8, true});
  if (!store) {
    std::printf("  open failed: %s\n", store.error().message.c_str());
    return;
  }
  const auto t0 = Clock::now();
  if (auto st = EnqueueAll(s, [&](std::span<const NewTask> b) { return (*store)->Enqueue(b); });
      !st) {
    std::printf("  enqueue failed: %s\n", st.error().message.c_str());
    return;
  }
  const auto t1 = Clock::now();
  const auto types = Types(s);
  std::int64_t done = 0, claims = 0;
  Clock::duration claim_time{}, complete_time{};
  std::vector<Completion> batch;
  size_t idle_types = 0, k = 0;
  while (idle_types < types.size()) {
    const TaskType type = types[k++ % types.size()];
    const auto c0 = Clock::now();
    auto claimed = (*store)->Claim(type, claim, "bench", 30'000'000);
    const auto c1 = Clock::now();
    claim_time += c1 - c0;
    ++claims;
    if (!claimed) {
      std::printf("  claim failed: %s\n", claimed.error().message.c_str());
      return;
    }
    if (claimed->empty()) {
      ++idle_types;
      continue;
    }
    idle_types = 0;
    batch.clear();
    for (const TaskDetail& t : *claimed) {
      batch.push_back({LeaseRef{t.id, t.type, "bench", t.attempts}, Completion::Kind::kDone,
                       std::nullopt, std::string(R"({"ok":true})"), 0});
    }
    if (auto st = (*store)->Complete(batch); !st) {
      std::printf("  complete failed: %s\n", st.error().message.c_str());
      return;
    }
    complete_time += Clock::now() - c1;
    done += static_cast<std::int64_t>(batch.size());
  }
  const auto t2 = Clock::now();
  const double n = static_cast<double>(s.tasks);
  std::printf(
      "  claim batch %d: enqueue %.0f tasks/s; claim+complete %.3f s -> %.0f tasks/s "
      "(%lld Claim calls, %.1f us each = %.1f us/task; Complete %.1f us/task)\n",
      claim, n / Seconds(t1 - t0), Seconds(t2 - t1), n / Seconds(t2 - t1),
      static_cast<long long>(claims), Seconds(claim_time) * 1e6 / static_cast<double>(claims),
      Seconds(claim_time) * 1e6 / n, Seconds(complete_time) * 1e6 / n);
  Verify(**store, s.tasks);
  store->reset();
  if (!s.keep) std::filesystem::remove_all(dir);
}

Outcome RunMode(const Settings& s, const std::string& mode) {
  Outcome out;
  const std::string dir = (s.data_dir.empty() ? std::filesystem::temp_directory_path().string() +
                                                    "/vectorize-engine-bench"
                                              : s.data_dir) +
                          "/" + mode;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = SqliteTaskStore::Open({dir + "/vectorize.db", 8, true});
  if (!store) {
    std::printf("  open failed: %s\n", store.error().message.c_str());
    return out;
  }
  EngineOptions options;
  options.worker_id = "bench";
  for (TaskType t : Types(s)) options.concurrency[t] = s.concurrency;
  std::shared_ptr<Job> job;
  if (s.job == "scripted") {
    job = std::make_shared<testing::ScriptedJob>();
  } else {
    job = std::make_shared<NoopJob>();
  }
  CountingStore counting(**store);
  TaskStore* base = s.breakdown ? static_cast<TaskStore*>(&counting) : store->get();
  std::unique_ptr<TaskEventLog> event_log;
  std::unique_ptr<ObservedTaskStore> observed;
  std::unique_ptr<vectorize::http::TaskEventStream> event_stream;
  auto sink = std::make_shared<NullSink>();
  if (s.events != "none") {
    event_log = std::make_unique<TaskEventLog>(16'384, static_cast<std::uint64_t>(NowMicros()));
    observed = std::make_unique<ObservedTaskStore>(*base, *event_log);
    base = observed.get();
  }
  if (s.events == "client") {
    event_stream = std::make_unique<vectorize::http::TaskEventStream>(
        *event_log, *base, vectorize::http::TaskEventStream::Options{});
    event_stream->Start();
    event_stream->Subscribe({}, event_log->last_seq(), std::nullopt, sink);
  }
  TaskStore& engine_store = *base;
  auto engine = std::make_unique<Engine>(engine_store, options);
  for (TaskType t : Types(s)) engine->Register(t, job);

  auto wait_done = [&](Clock::time_point deadline) {
    while (engine->counters().done + engine->counters().failed <
           static_cast<std::uint64_t>(s.tasks)) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return true;
  };
  const auto timeout = std::chrono::seconds(600);

  Clock::time_point t0, t_enq, t_done, t_stop;
  if (mode == "preload") {
    t0 = Clock::now();
    auto st = EnqueueAll(s, [&](std::span<const NewTask> b) { return engine_store.Enqueue(b); });
    t_enq = Clock::now();
    if (!st) {
      std::printf("  enqueue failed: %s\n", st.error().message.c_str());
      return out;
    }
    const auto r0 = Clock::now();
    engine->Start();
    for (TaskType t : Types(s)) engine->Wake(t);
    if (!wait_done(r0 + timeout)) std::printf("  timed out waiting for completions\n");
    t_done = Clock::now();
    engine->Stop();
    t_stop = Clock::now();
    out.enqueue_s = Seconds(t_enq - t0);
    out.run_s = Seconds(t_stop - r0);
    out.total_s = Seconds(t_stop - t0);
  } else {
    engine->Start();
    t0 = Clock::now();
    auto st = EnqueueAll(s, [&](std::span<const NewTask> b) { return engine->Enqueue(b); });
    t_enq = Clock::now();
    if (!st) {
      std::printf("  enqueue failed: %s\n", st.error().message.c_str());
      return out;
    }
    if (!wait_done(t0 + timeout)) std::printf("  timed out waiting for completions\n");
    t_done = Clock::now();
    engine->Stop();
    t_stop = Clock::now();
    out.enqueue_s = Seconds(t_enq - t0);
    out.run_s = Seconds(t_stop - t0);
    out.total_s = out.run_s;
  }
  out.stop_s = Seconds(t_stop - t_done);
  if (s.breakdown) {
    std::printf("  store calls (wall time inside, write-mutex waits included; threads overlap):\n");
    std::printf("    %-16s %9s %10s %10s %12s %10s\n", "method", "calls", "items", "items/call",
                "total ms", "us/call");
    for (int m = 0; m < CountingStore::kMethods; ++m) {
      const auto& t = counting.tally(m);
      const auto calls = t.calls.load();
      if (!calls) continue;
      std::printf("    %-16s %9llu %10llu %10.1f %12.1f %10.1f\n", CountingStore::kNames[m],
                  static_cast<unsigned long long>(calls),
                  static_cast<unsigned long long>(t.items.load()),
                  static_cast<double>(t.items.load()) / static_cast<double>(calls),
                  static_cast<double>(t.nanos.load()) / 1e6,
                  static_cast<double>(t.nanos.load()) / 1e3 / static_cast<double>(calls));
    }
  }
  out.counters = engine->counters();
  engine.reset();
  if (event_stream) {
    event_stream->Stop();
    std::printf("  event-stream client: %llu events, %.1f MB\n",
                static_cast<unsigned long long>(sink->events_.load()),
                static_cast<double>(sink->bytes_.load()) / 1e6);
  }
  out.ok = Verify(**store, s.tasks);
  store->reset();
  if (!s.keep) std::filesystem::remove_all(dir);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Task engine throughput: no-op tasks, enqueue -> done, on SQLite"};
  Settings s;
  std::string mode = "both";
  cli.add_option("--tasks", s.tasks, "Tasks per mode (default 100000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  cli.add_option("--batch", s.batch, "Tasks per Enqueue call (default 1000)")
      ->check(CLI::Range(1, 1'000'000));
  cli.add_option("--concurrency", s.concurrency, "Worker threads per task type (default 8)")
      ->check(CLI::Range(1, 1024));
  cli.add_option("--types", s.types, "1: all tasks are training; 5: spread over the five types")
      ->check(CLI::IsMember({1, 5}));
  cli.add_option("--job", s.job, "noop (default) or scripted (ScriptedJob, inputs {})")
      ->check(CLI::IsMember({"noop", "scripted"}));
  cli.add_option("--mode", mode,
                 "live, preload, both (default), or store (the store alone, one thread, "
                 "claim batches of 1, 8, 64)")
      ->check(CLI::IsMember({"live", "preload", "both", "store"}));
  cli.add_option("--data-dir", s.data_dir,
                 "Parent of the fresh data dirs (default $TMPDIR/vectorize-engine-bench)");
  cli.add_flag("--keep", s.keep, "Keep the databases afterwards");
  cli.add_flag("--breakdown", s.breakdown,
               "Count and time every store call the engine makes (a thin wrapper; small overhead)");
  cli.add_option("--events", s.events,
                 "none (default): bare store; log: changes reported to the event log; client: "
                 "plus one /tasks/events client")
      ->check(CLI::IsMember({"none", "log", "client"}));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  spdlog::set_level(spdlog::level::warn);

  std::printf(
      "engine_bench: %lld tasks, batch %d, %d type(s) x concurrency %d, job %s, events %s\n",
      static_cast<long long>(s.tasks), s.batch, s.types, s.concurrency, s.job.c_str(),
      s.events.c_str());
  bool all_ok = true;
  std::vector<std::string> modes;
  if (mode == "both") {
    modes = {"preload", "live"};
  } else {
    modes = {mode};
  }
  const double n = static_cast<double>(s.tasks);
  if (mode == "store") {
    std::printf("[store only: one thread, Claim(batch) then Complete(batch), no engine]\n");
    for (int claim : {1, 8, 64}) RunStoreOnly(s, claim);
    return 0;
  }
  for (const std::string& m : modes) {
    std::printf("[%s]\n", m.c_str());
    Outcome o = RunMode(s, m);
    all_ok = all_ok && o.ok;
    if (m == "preload") {
      std::printf("  enqueue (engine idle): %.3f s  -> %.0f tasks/s\n", o.enqueue_s,
                  n / o.enqueue_s);
      std::printf("  drain (start -> all D): %.3f s  -> %.0f tasks/s\n", o.run_s, n / o.run_s);
      std::printf("  enqueue + drain:        %.3f s  -> %.0f tasks/s\n", o.total_s, n / o.total_s);
    } else {
      std::printf("  enqueue (engine running): %.3f s  -> %.0f tasks/s\n", o.enqueue_s,
                  n / o.enqueue_s);
      std::printf("  enqueue start -> all D:   %.3f s  -> %.0f tasks/s\n", o.total_s,
                  n / o.total_s);
    }
    std::printf(
        "  (stop + final flush %.3f s; counters: claimed %llu, done %llu, failed %llu, "
        "retried %llu)\n",
        o.stop_s, static_cast<unsigned long long>(o.counters.claimed),
        static_cast<unsigned long long>(o.counters.done),
        static_cast<unsigned long long>(o.counters.failed),
        static_cast<unsigned long long>(o.counters.retried));
  }
  return all_ok ? 0 : 1;
}
