#pragma once
// GET /tasks/events: Server-Sent Events of task changes (SPEC §2.3; docs/tasks.md "Events").
//
//   event: task      id: <change number>   data: the task as GET /tasks/{id} returns it
//   event: reload    id: <change number>   data: {"reason": "..."} — the stream cannot replay
//                    what the client missed; it should re-read GET /tasks and carry on
//   ": heartbeat"    a comment line every `heartbeat` (keeps proxies and clients from timing out)
//
// Query: the filters of GET /tasks (task_type, status, tag, within_hours; same validation and
// 422s; limit/offset are accepted and ignored). Resumption: `Last-Event-ID` header, or the
// `last_event_id` query parameter for clients that reconnect by hand; changes after that id are
// replayed (each task once, in its latest state) when the log still holds them, else `reload`.
//
// TaskEventStream is the broadcaster: one thread waits on the TaskEventLog, reads each changed
// task once, serialises it once and writes it to every matching client's StreamSink (async on
// the server's I/O threads; a client whose unsent bytes exceed the bound is dropped). Changes
// to one task that arrive faster than they are sent are coalesced into its latest state.
// Thread safety: Subscribe from any thread; Start/Stop from one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/event_stream.h"
#include "http/router.h"
#include "tasks/task_events.h"
#include "tasks/task_query.h"
#include "tasks/task_store.h"

namespace vectorize::http {

class TaskEventStream {
 public:
  struct Options {
    std::chrono::milliseconds heartbeat{15'000};
    std::size_t replay_max = 10'000;  // changes replayed on resumption at most; beyond: reload
    std::size_t batch_max = 4'096;    // changes read from the log per round
    std::size_t client_buffer_bytes = kDefaultStreamBufferLimit;
  };

  // REQUIRES: log and store outlive this object.
  TaskEventStream(tasks::TaskEventLog& log, tasks::TaskStore& store, Options options);
  ~TaskEventStream();
  TaskEventStream(const TaskEventStream&) = delete;
  TaskEventStream& operator=(const TaskEventStream&) = delete;

  void Start();
  // Stops the thread and closes every client's stream. Idempotent.
  void Stop();

  // A new client. `from`: the log position when its request arrived (nothing after it is
  // missed); `resume`: its Last-Event-ID, if any.
  void Subscribe(tasks::TaskQuery filter, std::uint64_t from, std::optional<std::uint64_t> resume,
                 std::shared_ptr<StreamSink> sink);

  [[nodiscard]] std::uint64_t position() const { return log_.last_seq(); }
  [[nodiscard]] std::size_t clients() const { return clients_.load(); }
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  struct Client {
    tasks::TaskQuery filter;
    std::uint64_t from = 0;
    std::optional<std::uint64_t> resume;
    std::shared_ptr<StreamSink> sink;
    bool dead = false;
  };
  void Loop();
  // Sends the latest state of every task in `entries` to the clients whose filter it matches.
  void Deliver(const std::vector<tasks::TaskEventLog::Entry>& entries,
               std::vector<Client*>& clients);
  void SendReload(Client& c, std::uint64_t id, std::string_view reason);

  tasks::TaskEventLog& log_;
  tasks::TaskStore& store_;
  Options options_;
  std::mutex mu_;
  std::vector<Client> joining_;  // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  std::atomic<std::size_t> clients_{0};
  std::thread thread_;
};

// Registers GET /tasks/events. REQUIRES: stream outlives the router.
void AddTaskEventRoutes(Router& router, TaskEventStream& stream);

}  // namespace vectorize::http
