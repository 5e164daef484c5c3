#include "http/routes/task_events_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <limits>
#include <unordered_map>

#include "http/json_text.h"
#include "http/routes/task_json.h"

namespace vectorize::http {
namespace {

using tasks::TaskEventLog;

// EventSource waits this long before reconnecting after the stream broke.
constexpr std::string_view kStreamPreamble = "retry: 2000\n: connected\n\n";
// The thread wakes at least this often (to notice Stop and closed clients).
constexpr std::chrono::milliseconds kMaxWait{1'000};

bool Matches(const tasks::TaskQuery& f, const tasks::TaskDetail& t, Micros now) {
  if (!f.types.empty() && std::ranges::find(f.types, t.type) == f.types.end()) return false;
  if (!f.statuses.empty() && std::ranges::find(f.statuses, t.status) == f.statuses.end()) {
    return false;
  }
  if (f.tag && t.tag != f.tag) return false;
  // The window of GET /tasks: active tasks always, finished ones if they ended within it.
  if (tasks::IsTerminal(t.status) && t.end_date &&
      *t.end_date < tasks::WindowCutoff(now, f.within_hours)) {
    return false;
  }
  return true;
}

std::optional<std::uint64_t> ParseEventId(std::string_view text) {
  std::uint64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

TaskEventStream::TaskEventStream(TaskEventLog& log, tasks::TaskStore& store, Options options)
    : log_(log), store_(store), options_(options) {}

TaskEventStream::~TaskEventStream() { Stop(); }

void TaskEventStream::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void TaskEventStream::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  log_.Interrupt();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  for (auto& c : joining_) c.sink->Close();
  joining_.clear();
}

void TaskEventStream::Subscribe(tasks::TaskQuery filter, std::uint64_t from,
                                std::optional<std::uint64_t> resume,
                                std::shared_ptr<StreamSink> sink) {
  sink->Write(std::string(kStreamPreamble));
  {
    std::lock_guard lock(mu_);
    if (stop_) {
      sink->Close();
      return;
    }
    joining_.push_back({std::move(filter), from, resume, std::move(sink)});
  }
  log_.Interrupt();
}

void TaskEventStream::SendReload(Client& c, std::uint64_t id, std::string_view reason) {
  boost::json::object data{{"reason", reason}};
  if (!c.sink->Write(
          fmt::format("id: {}\nevent: reload\ndata: {}\n\n", id, boost::json::serialize(data)))) {
    c.dead = true;
  }
}

void TaskEventStream::Deliver(const std::vector<TaskEventLog::Entry>& entries,
                              std::vector<Client*>& clients) {
  // Each task once, in its latest state, numbered by its latest change.
  std::unordered_map<std::string_view, std::uint64_t> latest;
  for (const auto& e : entries) {
    if (!e.task_id.empty()) latest[e.task_id] = e.seq;
  }
  std::vector<std::pair<std::uint64_t, std::string_view>> order;
  order.reserve(latest.size());
  for (const auto& [id, seq] : latest) order.emplace_back(seq, id);
  std::ranges::sort(order);
  const Micros now = NowMicros();
  for (const auto& [seq, id] : order) {
    auto task = store_.Get(id);
    if (!task) {
      if (task.error().code != ErrorCode::kNotFound) {
        spdlog::warn("task={} event not sent: {}", id, task.error().message);
      }
      continue;
    }
    std::string text;
    for (Client* c : clients) {
      if (c->dead || !Matches(c->filter, *task, now)) continue;
      if (text.empty()) {
        text = fmt::format("id: {}\nevent: task\ndata: {}\n\n", seq,
                           SerializeJson(TaskDetailJson(*task)));
      }
      if (!c->sink->Write(text)) c->dead = true;
    }
  }
}

void TaskEventStream::Loop() {
  std::vector<Client> live;
  std::uint64_t cursor = log_.last_seq();
  auto next_heartbeat = std::chrono::steady_clock::now() + options_.heartbeat;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat - now),
                   std::chrono::milliseconds(0), kMaxWait);
    // Without clients, appends do not wake the thread (the engine's hot path stays cheap).
    log_.WaitAfter(live.empty() ? std::numeric_limits<std::uint64_t>::max() : cursor, wait);
    std::vector<Client> joining;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      joining.swap(joining_);
    }
    if (live.empty()) cursor = log_.last_seq();
    // 1. New changes to the clients already live.
    if (!live.empty()) {
      std::vector<Client*> targets;
      for (auto& c : live) targets.push_back(&c);
      for (;;) {
        auto batch =
            log_.ReadAfter(cursor, std::numeric_limits<std::uint64_t>::max(), options_.batch_max);
        if (batch.entries.empty()) break;
        if (batch.gap) {
          for (Client* c : targets) {
            SendReload(*c, batch.entries.front().seq, "changes may have been missed");
          }
        }
        Deliver(batch.entries, targets);
        cursor = batch.entries.back().seq;
        if (batch.entries.size() < options_.batch_max) break;
      }
    }
    // 2. Newcomers: replay what they missed up to the cursor, then they are live.
    for (auto& c : joining) {
      const std::uint64_t start = c.resume.value_or(c.from);
      if (start < cursor || c.resume) {
        auto missed = log_.ReadAfter(start, cursor, options_.replay_max);
        if (missed.gap || missed.entries.size() >= options_.replay_max) {
          SendReload(c, cursor,
                     c.resume ? "Last-Event-ID is too old (or unknown) to replay from"
                              : "changes may have been missed");
        } else if (!missed.entries.empty()) {
          std::vector<Client*> one{&c};
          Deliver(missed.entries, one);
        }
      }
      live.push_back(std::move(c));
    }
    // 3. Heartbeats, and forgetting clients that went away.
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      next_heartbeat = std::chrono::steady_clock::now() + options_.heartbeat;
      for (auto& c : live) {
        if (!c.sink->Write(": heartbeat\n\n")) c.dead = true;
      }
    }
    std::erase_if(live, [](const Client& c) { return c.dead || !c.sink->IsOpen(); });
    clients_ = live.size();
  }
  for (auto& c : live) c.sink->Close();
  clients_ = 0;
}

void AddTaskEventRoutes(Router& router, TaskEventStream& stream) {
  router.Add("GET", "/tasks/events", [&stream](Request& req) {
    auto filter = tasks::ParseTaskQuery(req.query);
    if (!filter) return ErrorResponse(filter.error());
    std::optional<std::uint64_t> resume;
    std::optional<std::string_view> text = req.Header("last-event-id");
    std::vector<std::string> loc = {"header", "Last-Event-ID"};
    if (!text || text->empty()) {
      auto q = req.QueryAll("last_event_id");
      text = q.empty() ? std::nullopt : std::optional(q.back());
      loc = {"query", "last_event_id"};
    }
    if (text && !text->empty()) {
      resume = ParseEventId(*text);
      if (!resume && loc[0] == "header") {
        // EventSource sends back whatever id it last saw and gives up for good on a 4xx: an id
        // this server could not have issued is answered like one too old, with a reload event.
        resume = 0;
      } else if (!resume) {
        return ValidationError(
            {FieldError{loc, "must be an event id (a non-negative integer)", "int_parsing"}});
      }
    }
    const std::uint64_t from = stream.position();
    Response r;
    r.status = 200;
    r.content_type = "text/event-stream; charset=utf-8";
    r.stream_buffer_limit = stream.options().client_buffer_bytes;
    r.stream = [&stream, f = std::move(*filter), from, resume](std::shared_ptr<StreamSink> sink) {
      stream.Subscribe(f, from, resume, std::move(sink));
    };
    return r;
  });
}

}  // namespace vectorize::http
