#include "tasks/postgres/pg_listener.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>

#include "storage/postgres/connection.h"
#include "tasks/postgres/pg_event_forwarder.h"
#include "tasks/postgres/postgres_task_store.h"

namespace vectorize::tasks {

using storage::postgres::Connection;

PgListener::PgListener(Options options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

PgListener::~PgListener() { Stop(); }

void PgListener::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void PgListener::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PgListener::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

std::unique_ptr<Connection> PgListener::Connect() {
  Connection::Options co;
  co.url = options_.url;
  co.application_name = options_.application_name;
  auto conn = Connection::Open(co);
  if (!conn) {
    // Once per outage at warn level; the retries every few seconds after it at debug.
    if (failures_++ == 0) {
      spdlog::warn("task notifications: cannot connect (retrying): {}", conn.error().message);
    } else {
      spdlog::debug("task notifications: cannot connect: {}", conn.error().message);
    }
    return nullptr;
  }
  failures_ = 0;
  std::string sql = fmt::format("LISTEN {}; LISTEN {}", PostgresTaskStore::kNotifyChannel,
                                PostgresTaskStore::kCancelChannel);
  if (callbacks_.on_events) sql += fmt::format("; LISTEN {}", PgEventForwarder::kChannel);
  if (auto s = (*conn)->Exec(sql); !s) {
    spdlog::warn("task notifications: LISTEN failed: {}", s.error().message);
    return nullptr;
  }
  return std::move(*conn);
}

void PgListener::Dispatch(Connection& conn) {
  while (PGnotify* n = PQnotifies(conn.raw())) {
    const std::string_view channel(n->relname);
    const std::string payload(n->extra ? n->extra : "");
    PQfreemem(n);
    if (channel == PostgresTaskStore::kNotifyChannel) {
      if (auto type = ParseTaskType(payload); type && callbacks_.on_work) callbacks_.on_work(*type);
    } else if (channel == PostgresTaskStore::kCancelChannel) {
      if (!payload.empty() && callbacks_.on_cancel) callbacks_.on_cancel(payload);
    } else if (channel == PgEventForwarder::kChannel) {
      if (!payload.empty() && callbacks_.on_events) callbacks_.on_events(payload);
    }
  }
}

void PgListener::Loop() {
  auto backoff = options_.backoff_min;
  bool ever_connected = false;
  while (!stop_) {
    auto conn = Connect();
    if (!conn) {
      if (!SleepFor(backoff)) break;
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    backoff = options_.backoff_min;
    pid_ = conn->backend_pid();
    if (ever_connected) {
      ++reconnects_;
      spdlog::info("task notifications: reconnected");
      // Whatever was notified while the connection was down is lost: look for work everywhere.
      if (callbacks_.on_work) {
        for (TaskType type : kAllTaskTypes) callbacks_.on_work(type);
      }
      if (callbacks_.on_events) callbacks_.on_events("");
    }
    ever_connected = true;
    Dispatch(*conn);  // anything that arrived with LISTEN's reply

    while (!stop_) {
      pollfd pfd{PQsocket(conn->raw()), POLLIN, 0};
      if (pfd.fd < 0) break;
      const int rc = poll(&pfd, 1, static_cast<int>(options_.poll_timeout.count()));
      if (rc < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (rc == 0) continue;
      if (PQconsumeInput(conn->raw()) == 0) break;
      Dispatch(*conn);
      if (PQstatus(conn->raw()) != CONNECTION_OK) break;
    }
    pid_ = 0;
    if (stop_) break;
    spdlog::warn("task notifications: connection lost ({}); reconnecting",
                 std::string_view(PQerrorMessage(conn->raw())).substr(0, 200));
    conn.reset();
    if (!SleepFor(backoff)) break;
  }
  pid_ = 0;
}

}  // namespace vectorize::tasks
