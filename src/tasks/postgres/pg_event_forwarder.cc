#include "tasks/postgres/pg_event_forwarder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "storage/postgres/connection.h"

namespace vectorize::tasks {

using storage::postgres::Connection;

namespace {

// pg_advisory_xact_lock key of the event forwarders ("vzevents" in ASCII).
constexpr std::int64_t kEventsLockKey = 0x767a6576656e7473;
constexpr std::string_view kNotifySql =
    "SELECT pg_notify('vectorize_task_events', txid_current()::text || ' ' || $1 || ' ' || $2)";

}  // namespace

PgEventForwarder::~PgEventForwarder() { Stop(); }

void PgEventForwarder::TasksChanged(std::span<const std::string> ids) {
  if (ids.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() + ids.size() > kMaxPending) {
      spdlog::warn("task events: {} changes not forwarded (database too slow)", ids.size());
      return;
    }
    pending_.insert(pending_.end(), ids.begin(), ids.end());
  }
  cv_.notify_one();
}

void PgEventForwarder::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PgEventForwarder::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgEventForwarder::Loop() {
  std::vector<std::string> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty() && stop_) return;
      batch.swap(pending_);
      pending_.clear();
    }
    for (std::size_t i = 0; i < batch.size(); i += kIdsPerTxn) {
      std::vector<std::string> part(
          batch.begin() + static_cast<std::ptrdiff_t>(i),
          batch.begin() + static_cast<std::ptrdiff_t>(std::min(batch.size(), i + kIdsPerTxn)));
      if (!Send(part)) {
        spdlog::warn("task events: {} change(s) not forwarded", part.size());
        break;
      }
    }
    batch.clear();
  }
}

bool PgEventForwarder::Send(const std::vector<std::string>& ids) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn_ || !conn_->ok()) {
      conn_.reset();
      Connection::Options o;
      o.url = url_;
      o.application_name = "vectorize-events";
      auto c = Connection::Open(o);
      if (!c) {
        spdlog::warn("task events: cannot connect: {}", c.error().message);
        return false;
      }
      conn_ = std::move(*c);
    }
    auto run = [&]() -> Status {
      if (auto s = conn_->Begin(); !s) return s;
      auto lock = conn_->Query("SELECT pg_advisory_xact_lock($1)",
                               {static_cast<std::int64_t>(kEventsLockKey)});
      if (!lock) return Fail(lock.error());
      for (std::size_t i = 0; i < ids.size(); i += kIdsPerNotify) {
        std::string list;
        for (std::size_t j = i; j < std::min(ids.size(), i + kIdsPerNotify); ++j) {
          if (j > i) list += ',';
          list += ids[j];
        }
        auto r = conn_->Query(std::string(kNotifySql), {std::to_string(i), std::move(list)});
        if (!r) return Fail(r.error());
      }
      return conn_->Commit();
    };
    if (auto s = run(); s)
      return true;
    else
      spdlog::debug("task events: notify failed: {}", s.error().message);
    conn_->Rollback();
    if (conn_->ok()) return false;  // a real error, not a broken connection: do not repeat
  }
  return false;
}

bool PgEventForwarder::ParsePayload(std::string_view payload, std::uint64_t& first_seq,
                                    std::vector<std::string>& ids) {
  ids.clear();
  const auto sp1 = payload.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const auto sp2 = payload.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  std::uint64_t txid = 0, pos = 0;
  auto a = std::from_chars(payload.data(), payload.data() + sp1, txid);
  auto b = std::from_chars(payload.data() + sp1 + 1, payload.data() + sp2, pos);
  if (a.ec != std::errc() || a.ptr != payload.data() + sp1 || b.ec != std::errc() ||
      b.ptr != payload.data() + sp2 || pos >= kIdsPerTxn) {
    return false;
  }
  first_seq = txid * kIdsPerTxn + pos;
  std::string_view rest = payload.substr(sp2 + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    ids.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return !ids.empty();
}

}  // namespace vectorize::tasks
