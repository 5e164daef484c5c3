#include "tasks/engine.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "common/uuid.h"

namespace vectorize::tasks {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kProgressInterval{200};
constexpr milliseconds kStoreErrorPause{250};

Micros ToMicros(milliseconds d) { return d.count() * 1000; }

std::string DefaultWorkerId() {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + NewUuidV7().substr(24);
}

}  // namespace

Status JobContext::CheckCancelled() const {
  switch (stop_->load(std::memory_order_relaxed)) {
    case StopReason::kNone: return {};
    case StopReason::kCancelRequested: return Fail(Error::Cancelled("cancelled by request"));
    case StopReason::kLeaseLost: return Fail(Error::Cancelled("lease lost"));
    case StopReason::kShutdown: return Fail(Error::Cancelled("worker shutting down"));
  }
  return {};
}

void JobContext::ReportProgress(std::optional<double> fraction, std::string message) {
  if (fraction) *fraction = std::clamp(*fraction, 0.0, 1.0);
  std::shared_ptr<Engine::Run> run;
  {
    std::lock_guard lock(engine_->runs_mu_);
    auto it = engine_->runs_.find(task_.id);
    if (it == engine_->runs_.end()) return;
    run = it->second;
  }
  {
    std::lock_guard lock(run->progress_mu);
    run->pending_progress.emplace(fraction, std::move(message));
  }
  engine_->FlushProgress(*run, false);
}

Engine::Engine(TaskStore& store, EngineOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
}

Engine::~Engine() { Stop(); }

void Engine::Register(TaskType type, std::shared_ptr<Job> job) {
  auto pool = std::make_unique<Pool>();
  pool->type = type;
  pool->job = std::move(job);
  auto it = options_.concurrency.find(type);
  pool->concurrency = it == options_.concurrency.end() ? 0 : it->second;
  pools_[type] = std::move(pool);
}

void Engine::Start() {
  if (started_) return;
  started_ = true;
  completer_ = std::thread([this] { CompleteLoop(); });
  monitor_ = std::thread([this] { MonitorLoop(); });
  for (auto& [type, pool] : pools_) {
    if (pool->concurrency <= 0) continue;
    Pool* p = pool.get();
    for (int i = 0; i < p->concurrency; ++i) p->workers.emplace_back([this, p] { WorkLoop(*p); });
    p->dispatcher = std::thread([this, p] { DispatchLoop(*p); });
  }
  spdlog::info("task engine started: worker {}", options_.worker_id);
}

void Engine::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  // 1. Stop claiming: dispatchers exit; the completer claims nothing more (ReserveSlots), and a
  //    claim already in flight is released on arrival (AdoptClaimed).
  for (auto& [type, pool] : pools_) {
    std::lock_guard lock(pool->mu);
    pool->cv.notify_all();
    pool->worker_cv.notify_all();
  }
  for (auto& [type, pool] : pools_) {
    if (pool->dispatcher.joinable()) pool->dispatcher.join();
  }
  // 2. Claimed-but-not-started tasks go straight back to the queue.
  for (auto& [type, pool] : pools_) {
    std::deque<TaskDetail> ready;
    {
      std::lock_guard lock(pool->mu);
      ready.swap(pool->ready);
      pool->busy -= static_cast<int>(ready.size());
    }
    for (TaskDetail& t : ready) {
      {
        std::lock_guard r(runs_mu_);
        runs_.erase(t.id);
      }
      SubmitCompletion({LeaseRef{t.id, t.type, options_.worker_id, t.attempts},
                        Completion::Kind::kReleased, std::nullopt, std::nullopt, NowMicros()});
    }
  }
  // 3. Ask running jobs to reach a safe point; those that stop are released (Q, attempts kept).
  {
    std::lock_guard lock(runs_mu_);
    for (auto& [id, run] : runs_) {
      auto expected = JobContext::StopReason::kNone;
      run->stop.compare_exchange_strong(expected, JobContext::StopReason::kShutdown);
    }
  }
  const auto deadline = Clock::now() + options_.shutdown_grace;
  for (auto& [type, pool] : pools_) {
    std::unique_lock lock(pool->mu);
    if (!pool->cv.wait_until(lock, deadline, [&] { return pool->busy <= 0; })) {
      spdlog::warn("{} {} job(s) still running after the shutdown grace; waiting for them",
                   pool->busy, TaskTypeName(type));
    }
  }
  for (auto& [type, pool] : pools_) {
    for (auto& w : pool->workers) w.join();
  }
  // 4. Monitor and completer last, so every outcome is written.
  monitor_cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  {
    std::lock_guard lock(done_mu_);
    completer_exit_ = true;
  }
  done_cv_.notify_all();
  if (completer_.joinable()) completer_.join();
  spdlog::info("task engine stopped");
}

void Engine::Wake(TaskType type) {
  auto it = pools_.find(type);
  if (it == pools_.end()) return;
  std::lock_guard lock(it->second->mu);
  it->second->maybe_more = true;
  it->second->cv.notify_all();
}

Result<std::vector<std::string>> Engine::Enqueue(std::span<const NewTask> tasks) {
  auto ids = store_.Enqueue(tasks);
  if (!ids) return ids;
  for (const NewTask& t : tasks) Wake(t.type);
  return ids;
}

void Engine::NotifyCancelRequested(const std::string& task_id) {
  std::lock_guard lock(runs_mu_);
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return;
  auto expected = JobContext::StopReason::kNone;
  if (it->second->stop.compare_exchange_strong(expected,
                                               JobContext::StopReason::kCancelRequested)) {
    it->second->stop_at = Clock::now();
  }
}

EngineCounters Engine::counters() const {
  std::lock_guard lock(counters_mu_);
  return counters_;
}

std::map<TaskType, int> Engine::RunningCounts() const {
  std::map<TaskType, int> out;
  std::lock_guard lock(runs_mu_);
  for (auto& [id, run] : runs_) ++out[run->lease.type];
  return out;
}

int Engine::ReserveSlots(Pool& pool) {
  const int free = pool.concurrency - pool.busy;
  if (free <= 0 || !pool.maybe_more || stopping_) return 0;
  pool.maybe_more = false;
  pool.busy += free;
  return free;
}

void Engine::AdoptClaimed(Pool& pool, std::vector<TaskDetail> tasks, int reserved) {
  std::vector<TaskDetail> release;
  {
    std::lock_guard lock(pool.mu);
    const int got = static_cast<int>(tasks.size());
    pool.busy -= reserved - got;
    if (got == reserved && reserved > 0) pool.maybe_more = true;  // the queue may hold more
    if (got == 0) return;
    {
      std::lock_guard c(counters_mu_);
      counters_.claimed += tasks.size();
    }
    if (stopping_) {
      pool.busy -= got;
      release = std::move(tasks);
    } else {
      for (TaskDetail& t : tasks) {
        auto run = std::make_shared<Run>();
        run->lease = LeaseRef{t.id, t.type, options_.worker_id, t.attempts};
        // The first progress write waits one interval too: a short run's outcome supersedes it.
        run->last_progress_write = Clock::now();
        {
          std::lock_guard r(runs_mu_);
          runs_[t.id] = run;
        }
        pool.ready.push_back(std::move(t));
      }
      pool.worker_cv.notify_all();
    }
  }
  for (TaskDetail& t : release) {
    SubmitCompletion({LeaseRef{t.id, t.type, options_.worker_id, t.attempts},
                      Completion::Kind::kReleased, std::nullopt, std::nullopt, NowMicros()});
  }
}

void Engine::DispatchLoop(Pool& pool) {
  std::unique_lock lock(pool.mu);
  while (!stopping_) {
    if (const int reserved = ReserveSlots(pool); reserved > 0) {
      lock.unlock();
      auto claimed =
          store_.Claim(pool.type, reserved, options_.worker_id, ToMicros(options_.lease));
      if (!claimed) {
        spdlog::warn("claiming {} tasks failed: {}", TaskTypeName(pool.type),
                     claimed.error().message);
        lock.lock();
        pool.busy -= reserved;
        pool.maybe_more = true;
        pool.cv.wait_for(lock, kStoreErrorPause, [&] { return stopping_.load(); });
        continue;
      }
      AdoptClaimed(pool, std::move(*claimed), reserved);
      lock.lock();
      continue;
    }
    // Sleep until woken (new work, an earlier backoff), a backoff expires, or the idle poll.
    // Slots freed by finished runs are refilled by the completer in the same transaction that
    // records the outcomes. The deadline is recomputed after every wake-up, so a retry
    // scheduled meanwhile is claimed when its backoff expires.
    auto wake_at = std::chrono::system_clock::now() + options_.idle_poll;
    if (pool.next_due && *pool.next_due < wake_at) wake_at = *pool.next_due;
    if (pool.cv.wait_until(lock, wake_at) == std::cv_status::timeout) {
      pool.maybe_more = true;  // other processes may have enqueued; backoffs may have expired
      if (pool.next_due && *pool.next_due <= std::chrono::system_clock::now()) {
        pool.next_due.reset();
      }
    }
  }
}

void Engine::WorkLoop(Pool& pool) {
  for (;;) {
    TaskDetail task;
    {
      std::unique_lock lock(pool.mu);
      pool.worker_cv.wait(lock, [&] { return stopping_ || !pool.ready.empty(); });
      if (stopping_ || pool.ready.empty()) return;  // Stop() releases what is still in `ready`
      task = std::move(pool.ready.front());
      pool.ready.pop_front();
    }
    std::optional<Completion> outcome = ExecuteRun(pool, std::move(task));
    if (outcome) {
      SubmitCompletion(std::move(*outcome), /*holds_slot=*/true);
      continue;
    }
    // Ended by the monitor (cancel grace) and already recorded: the slot frees now.
    {
      std::lock_guard lock(pool.mu);
      --pool.busy;
      pool.cv.notify_all();
    }
    std::lock_guard lock(done_mu_);
    completer_poked_ = true;
    done_cv_.notify_one();
  }
}

std::optional<Completion> Engine::ExecuteRun(Pool& pool, TaskDetail task) {
  std::shared_ptr<Run> run;
  {
    std::lock_guard lock(runs_mu_);
    if (auto it = runs_.find(task.id); it != runs_.end()) run = it->second;
  }
  if (!run) return std::nullopt;
  spdlog::debug("task={} type={} attempt={} started", task.id, TaskTypeName(task.type),
                task.attempts);
  JobContext ctx(this, task, &run->stop);
  Status status;
  const auto started = Clock::now();
  try {
    status = pool.job->Run(ctx);
  } catch (const std::exception& e) {
    status = Fail(Error::Internal(std::string("job crashed: ") + e.what()));
  } catch (...) {
    status = Fail(Error::Internal("job crashed"));
  }
  {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::lock_guard lock(counters_mu_);
    RunDurations& h = counters_.run_durations[task.type];
    for (size_t i = 0; i < kRunDurationBounds.size(); ++i) {
      if (seconds <= kRunDurationBounds[i]) ++h.buckets[i];
    }
    ++h.count;
    h.sum_seconds += seconds;
  }
  {
    std::lock_guard lock(runs_mu_);
    runs_.erase(task.id);
  }
  if (run->force_ended) return std::nullopt;  // already ended C by the monitor
  Completion outcome = DecideOutcome(task, *run, status, std::move(ctx.result_));
  // Progress still pending rides along with the outcome instead of costing a write of its own.
  {
    std::lock_guard flushing(run->flush_mu);
    std::lock_guard lock(run->progress_mu);
    if (run->pending_progress) outcome.progress_msg = std::move(run->pending_progress->second);
  }
  return outcome;
}

Completion Engine::DecideOutcome(const TaskDetail& task, Run& run, const Status& status,
                                 std::optional<std::string> result) {
  Completion c{run.lease, Completion::Kind::kDone, std::nullopt, std::nullopt, 0};
  const auto reason = run.stop.load();
  if (status) {
    c.result = std::move(result);
    return c;
  }
  const Error& e = status.error();
  if (reason == JobContext::StopReason::kShutdown) {
    c.kind = Completion::Kind::kReleased;
    c.run_after = NowMicros();
  } else if (reason == JobContext::StopReason::kCancelRequested) {
    c.kind = Completion::Kind::kCancelled;
  } else if (e.IsRetryable() && task.attempts < task.max_attempts) {
    c.kind = Completion::Kind::kRetryLater;
    c.error_msg = e.message;
    c.run_after = NowMicros() + ToMicros(Backoff(task.attempts));
  } else {
    c.kind = Completion::Kind::kFailed;
    c.error_msg = e.message;
    if (e.code == ErrorCode::kInternal) spdlog::error("task={} failed: {}", task.id, e.message);
  }
  return c;
}

std::chrono::milliseconds Engine::Backoff(int attempt) {
  // Exponential with "equal jitter": half fixed, half random, so retries of many tasks that
  // failed together spread out instead of hammering the remote service in lockstep.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double base = static_cast<double>(options_.retry_base.count());
  const double cap = static_cast<double>(options_.retry_max.count());
  const double exp = std::min(cap, base * std::pow(2.0, std::max(0, attempt - 1)));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return milliseconds(static_cast<std::int64_t>(exp * jitter(rng)));
}

void Engine::SubmitCompletion(Completion c, bool holds_slot) {
  {
    std::lock_guard lock(counters_mu_);
    switch (c.kind) {
      case Completion::Kind::kDone: ++counters_.done; break;
      case Completion::Kind::kFailed: ++counters_.failed; break;
      case Completion::Kind::kCancelled: ++counters_.cancelled; break;
      case Completion::Kind::kRetryLater: ++counters_.retried; break;
      case Completion::Kind::kReleased: ++counters_.released; break;
    }
  }
  if (c.kind == Completion::Kind::kRetryLater) {
    auto it = pools_.find(c.lease.type);
    if (it != pools_.end()) {
      const auto due =
          std::chrono::system_clock::time_point(std::chrono::microseconds(c.run_after));
      std::lock_guard lock(it->second->mu);
      if (!it->second->next_due || due < *it->second->next_due) it->second->next_due = due;
      it->second->cv.notify_all();
    }
  }
  std::lock_guard lock(done_mu_);
  done_.push_back({std::move(c), holds_slot});
  done_cv_.notify_one();
}

void Engine::CompleteLoop() {
  std::vector<Outcome> batch;
  for (;;) {
    {
      std::unique_lock lock(done_mu_);
      done_cv_.wait(lock, [&] {
        return completer_exit_ || completer_poked_ || !done_.empty() || !batch.empty();
      });
      for (auto& o : done_) batch.push_back(std::move(o));
      done_.clear();
      completer_poked_ = false;
      if (batch.empty() && completer_exit_) return;
    }
    // Group commit: every outcome that arrived meanwhile shares one transaction, and so does
    // the claim that refills the slots they free. The finishing runs' slots pass straight to
    // the new claims (busy never drops in between), so the dispatcher cannot claim them too and
    // the database never shows more runs than the concurrency limit.
    std::vector<Completion> completions;
    std::map<TaskType, int> freed;
    for (const auto& o : batch) {
      completions.push_back(o.completion);
      if (o.holds_slot) ++freed[o.completion.lease.type];
    }
    std::vector<TaskStore::ClaimRequest> claims;
    for (auto& [type, pool] : pools_) {
      std::lock_guard lock(pool->mu);
      for (const auto& c : completions) {
        if (c.lease.type == type &&
            (c.kind == Completion::Kind::kRetryLater || c.kind == Completion::Kind::kReleased)) {
          pool->maybe_more = true;
        }
      }
      pool->busy -= freed[type];
      int n = 0;
      if (pool->concurrency > 0) n = ReserveSlots(*pool);
      if (n > 0) claims.push_back({type, n});
      pool->busy += freed[type];  // held until the commit below
    }
    auto claimed =
        store_.CompleteAndClaim(completions, claims, options_.worker_id, ToMicros(options_.lease));
    if (claimed) {
      batch.clear();
      for (auto& [type, pool] : pools_) {
        if (freed[type] == 0) continue;
        std::lock_guard lock(pool->mu);
        pool->busy -= freed[type];
        pool->cv.notify_all();
      }
      for (const auto& req : claims) {
        std::vector<TaskDetail> mine;
        for (auto& t : *claimed) {
          if (t.type == req.type) mine.push_back(std::move(t));
        }
        AdoptClaimed(*pools_.at(req.type), std::move(mine), req.max);
      }
      continue;
    }
    for (const auto& req : claims) AdoptClaimed(*pools_.at(req.type), {}, req.max);
    for (const auto& req : claims) Wake(req.type);
    spdlog::warn("recording {} task outcome(s) failed, will retry: {}", batch.size(),
                 claimed.error().message);
    std::unique_lock lock(done_mu_);
    if (completer_exit_) {
      // Leases expire and the rescuer requeues these runs: nothing is lost.
      spdlog::error("giving up on {} task outcome(s) at shutdown", batch.size());
      return;
    }
    done_cv_.wait_for(lock, kStoreErrorPause);
  }
}

void Engine::FlushProgress(Run& run, bool force) {
  // One flush at a time per run, held across the write, so that the outcome (which takes what
  // is still pending under the same lock) can never be committed before a flush of older progress.
  std::lock_guard flushing(run.flush_mu);
  std::optional<std::pair<std::optional<double>, std::string>> p;
  {
    std::lock_guard lock(run.progress_mu);
    if (!run.pending_progress) return;
    const auto now = Clock::now();
    if (!force && now - run.last_progress_write < kProgressInterval) return;
    p = std::move(run.pending_progress);
    run.pending_progress.reset();
    run.last_progress_write = now;
  }
  if (auto s = store_.ReportProgress(run.lease, p->first, p->second); !s) {
    spdlog::warn("task={} progress not recorded: {}", run.lease.id, s.error().message);
  }
}

void Engine::MonitorLoop() {
  auto next_heartbeat = Clock::now() + options_.heartbeat;
  auto next_rescue = Clock::now();
  const auto tick = std::min(options_.cancel_poll, options_.heartbeat);
  std::unique_lock lock(monitor_mu_);
  while (!stopping_) {
    lock.unlock();
    std::vector<std::shared_ptr<Run>> runs;
    {
      std::lock_guard r(runs_mu_);
      for (auto& [id, run] : runs_) runs.push_back(run);
    }
    std::vector<LeaseRef> leases;
    for (auto& run : runs) leases.push_back(run->lease);
    const auto now = Clock::now();
    // Cancel requests made through any process reach the job here.
    if (!leases.empty()) {
      if (auto req = store_.CancelRequested(leases); req) {
        for (const LeaseRef& l : *req) NotifyCancelRequested(l.id);
      }
    }
    // A job that ignores its cancel token past the grace is ended C now; its slot stays taken
    // until it returns, and whatever it reports later is fenced out.
    std::vector<Completion> forced;
    for (auto& run : runs) {
      if (run->stop.load() == JobContext::StopReason::kCancelRequested && !run->force_ended &&
          run->stop_at != Clock::time_point{} && now - run->stop_at > options_.cancel_grace) {
        run->force_ended = true;
        forced.push_back(
            {run->lease, Completion::Kind::kCancelled,
             std::string(
                 "cancelled (the job did not stop within the grace period; ended by the engine)"),
             std::nullopt, 0});
      }
      FlushProgress(*run, false);
    }
    for (auto& c : forced) SubmitCompletion(std::move(c));
    if (now >= next_heartbeat) {
      next_heartbeat = now + options_.heartbeat;
      if (auto lost = store_.RenewLeases(leases, ToMicros(options_.lease)); lost) {
        for (const LeaseRef& l : *lost) {
          // A run that finished since the snapshot lost nothing: its outcome is on its way.
          std::shared_ptr<Run> run;
          {
            std::lock_guard r(runs_mu_);
            if (auto it = runs_.find(l.id);
                it != runs_.end() && it->second->lease.attempt == l.attempt) {
              run = it->second;
            }
          }
          if (run) {
            auto expected = JobContext::StopReason::kNone;
            run->stop.compare_exchange_strong(expected, JobContext::StopReason::kLeaseLost);
            spdlog::warn("task={} lease lost; stopping its job", l.id);
          }
        }
      } else {
        spdlog::warn("renewing leases failed: {}", lost.error().message);
      }
    }
    if (options_.run_rescuer && now >= next_rescue) {
      next_rescue = now + options_.rescue_interval;
      if (auto rep = store_.RescueExpired(); rep) {
        if (rep->requeued + rep->failed + rep->cancelled > 0) {
          {
            std::lock_guard c(counters_mu_);
            counters_.rescued_requeued += rep->requeued;
            counters_.rescued_failed += rep->failed;
            counters_.rescued_cancelled += rep->cancelled;
          }
          spdlog::warn("rescued expired leases: {} requeued, {} failed (worker lost), {} cancelled",
                       rep->requeued, rep->failed, rep->cancelled);
        }
        if (rep->requeued > 0) {
          for (auto& [type, pool] : pools_) Wake(type);
        }
      } else {
        spdlog::warn("rescuing expired leases failed: {}", rep.error().message);
      }
    }
    lock.lock();
    monitor_cv_.wait_for(lock, tick, [&] { return stopping_.load(); });
  }
}

}  // namespace vectorize::tasks
