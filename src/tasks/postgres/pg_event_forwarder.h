#pragma once
// The PostgreSQL side of task change events (docs/tasks.md "Events"): a TaskChangeSink that
// forwards the ids of changed tasks to every process listening on `vectorize_task_events`, with
// numbers the database assigns so that every API node numbers each change alike.
//
// A background thread takes what was reported (batched: one transaction carries everything
// reported since the previous one) and runs, on a dedicated connection,
//   BEGIN; SELECT pg_advisory_xact_lock(<events key>);
//   SELECT pg_notify('vectorize_task_events', txid_current() || ' ' || <first> || ' ' || <ids>);
//   … COMMIT;
// The advisory lock serialises the forwarders of all processes and the transaction id is taken
// while holding it, so transaction ids grow in commit order — the order in which NOTIFY delivers
// — and event number = txid × 4096 + position is monotonic for every listener, survives restarts
// and needs no table. Payload: "<txid> <first position> <id>,<id>,…" (≤ 150 ids per
// notification, ≤ 4096 per transaction).
// Failures (database unreachable) drop the batch after logging: listeners then see a gap only if
// their own connection broke too, so clients re-read lists after a reconnect anyway.
// Thread safety: TasksChanged from any thread; Start/Stop from one.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tasks/task_events.h"

namespace vectorize::storage::postgres {
class Connection;
}

namespace vectorize::tasks {

class PgEventForwarder final : public TaskChangeSink {
 public:
  static constexpr std::string_view kChannel = "vectorize_task_events";
  static constexpr std::size_t kIdsPerNotify = 150;    // payloads stay far below 8000 bytes
  static constexpr std::size_t kIdsPerTxn = 4096;      // positions within one transaction id
  static constexpr std::size_t kMaxPending = 100'000;  // beyond: dropped (logged)

  explicit PgEventForwarder(std::string url) : url_(std::move(url)) {}
  ~PgEventForwarder() override;

  void TasksChanged(std::span<const std::string> ids) override;
  void Start();
  // Sends what is pending, then stops. Idempotent.
  void Stop();

  // Parses a payload; false if malformed. seq of ids[i] = first_seq + i.
  static bool ParsePayload(std::string_view payload, std::uint64_t& first_seq,
                           std::vector<std::string>& ids);

 private:
  void Loop();
  bool Send(const std::vector<std::string>& ids);

  std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> pending_;
  bool stop_ = false;
  std::thread thread_;
  std::unique_ptr<storage::postgres::Connection> conn_;  // forwarder thread only
};

}  // namespace vectorize::tasks
