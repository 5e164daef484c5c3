#pragma once
// The LISTEN side of PostgresTaskStore's notifications: one dedicated libpq connection that
// listens on `vectorize_tasks` (payload: a task type's name, sent when work of that type becomes
// claimable) and `vectorize_cancel` (payload: a task id, sent when a cancel is requested for a
// running task), and turns them into callbacks — in a process running an Engine, Engine::Wake and
// Engine::NotifyCancelRequested, so work queued or cancelled through any process reaches this one
// at once instead of at the next idle poll.
//
// A background thread waits on the socket with poll() (short timeout, so Stop() is prompt). When
// the connection breaks (server restart, network, pg_terminate_backend) it reconnects with
// exponential backoff; since notifications sent meanwhile are lost, it then calls on_work for
// every task type (the engines' idle poll remains the slow fallback either way).
// Thread safety: Start/Stop from one thread; callbacks run on the listener's thread and must not
// block for long; backend_pid()/reconnects() from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tasks/task.h"

namespace vectorize::storage::postgres {
class Connection;
}

namespace vectorize::tasks {

class PgListener {
 public:
  struct Options {
    std::string url;  // the store's database URL
    // Shown in pg_stat_activity: "vectorize-listener" for a process that runs workers,
    // "vectorize-event-listener" for an API-only node that only follows task events.
    std::string application_name = "vectorize-listener";
    std::chrono::milliseconds poll_timeout{100};
    std::chrono::milliseconds backoff_min{100};
    std::chrono::milliseconds backoff_max{5'000};
  };
  struct Callbacks {
    std::function<void(TaskType)> on_work;
    std::function<void(const std::string& task_id)> on_cancel;
    // Set on API nodes: also LISTEN on PgEventForwarder::kChannel and pass each payload here;
    // an empty payload after a reconnect means changes may have been missed meanwhile.
    std::function<void(const std::string& payload)> on_events;
  };

  PgListener(Options options, Callbacks callbacks);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Starts the thread, which connects (retrying with backoff while the server is unreachable).
  void Start();
  // Stops the thread and closes the connection. Idempotent.
  void Stop();

  // The server process of the listening connection, 0 while not connected (for tests).
  int backend_pid() const { return pid_.load(); }
  // Times the connection was re-established after it broke.
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  void Loop();
  // Connects and LISTENs; nullptr (after logging) on failure.
  std::unique_ptr<storage::postgres::Connection> Connect();
  // Delivers every notification queued on the connection.
  void Dispatch(storage::postgres::Connection& conn);
  // Sleeps up to `d` unless Stop() is called; returns false when stopping.
  bool SleepFor(std::chrono::milliseconds d);

  Options options_;
  Callbacks callbacks_;
  std::atomic<bool> stop_{false};
  std::atomic<int> pid_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  int failures_ = 0;  // failed connection attempts in a row (listener thread only)
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace vectorize::tasks
