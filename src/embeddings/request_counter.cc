#include "embeddings/request_counter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace vectorize::embeddings {

namespace {
constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;
constexpr std::int64_t kMaxDays = 3660;  // a counter answer covers ten years at most

constexpr const char* kUpsertSql =
    "INSERT INTO embedding_counter (model_id, day, requests) VALUES ($1, $2, $3) "
    "ON CONFLICT (model_id, day) DO UPDATE SET requests = embedding_counter.requests + "
    "excluded.requests";
constexpr const char* kSelectSql =
    "SELECT day, requests FROM embedding_counter WHERE model_id = $1 AND day >= $2 AND day <= $3";
}  // namespace

std::int64_t DayOf(Micros t) {
  return t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
}

std::string FormatDay(std::int64_t day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

RequestCounter::RequestCounter(storage::Database& db, std::chrono::milliseconds flush_interval)
    : db_(db), interval_(flush_interval) {}

RequestCounter::~RequestCounter() { Stop(); }

void RequestCounter::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      wake_.wait_for(lock, interval_, [&] { return stop_; });
      if (stop_) break;
      lock.unlock();
      if (auto st = Flush(); !st) {
        spdlog::warn("embeddings: counter flush failed, will retry: {}", st.error().message);
      }
      lock.lock();
    }
  });
}

void RequestCounter::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto st = Flush(); !st) {
    spdlog::error("embeddings: final counter flush failed; {} counts lost: {}", pending_.size(),
                  st.error().message);
  }
}

void RequestCounter::Record(const std::string& model_id, Micros at) {
  std::lock_guard lock(mu_);
  ++pending_[{model_id, DayOf(at)}];
}

Status RequestCounter::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::map<Key, std::int64_t> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  auto st = db_.Transaction([&](storage::Session& s) -> Status {
    for (const auto& [key, n] : batch) {
      auto r = s.Query(kUpsertSql, {key.first, key.second, n});
      if (!r) return Fail(r.error());
    }
    return {};
  });
  if (!st) {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : batch) pending_[key] += n;
  }
  return st;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> RequestCounter::PerDay(
    const std::string& model_id, Micros since, Micros until) {
  std::int64_t first = DayOf(since);
  const std::int64_t last = DayOf(until);
  if (last < first) first = last;
  first = std::max(first, last - kMaxDays + 1);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(last - first + 1), 0);
  std::lock_guard flush_lock(flush_mu_);
  auto rows = db_.Query(kSelectSql, {model_id, first, last});
  if (!rows) return Fail(rows.error());
  for (int i = 0; i < rows->size(); ++i) {
    counts[static_cast<std::size_t>(rows->Int(i, 0) - first)] += rows->Int(i, 1);
  }
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.lower_bound({model_id, first});
         it != pending_.end() && it->first.first == model_id && it->first.second <= last; ++it) {
      counts[static_cast<std::size_t>(it->first.second - first)] += it->second;
    }
  }
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out.emplace_back(FormatDay(first + static_cast<std::int64_t>(i)), counts[i]);
  }
  return out;
}

}  // namespace vectorize::embeddings
