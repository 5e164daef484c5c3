#pragma once
// Embedding requests served, per model and calendar day (UTC), for GET /embeddings/counter/{tag}.
// Record() only bumps a map in memory (no database write per request); a background thread adds
// the counts to table embedding_counter every flush interval, and Stop() flushes the rest. A
// failed flush keeps its counts in memory for the next one. Several processes sharing a database
// add up (the flush is an upsert that adds).
// Thread safety: every method may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "storage/database.h"

namespace vectorize::embeddings {

// Whole days since 1970-01-01 (UTC) of a time, and the "YYYY-MM-DD" form of such a day.
std::int64_t DayOf(Micros t);
std::string FormatDay(std::int64_t day);

class RequestCounter {
 public:
  // REQUIRES: db outlives the counter.
  RequestCounter(storage::Database& db, std::chrono::milliseconds flush_interval);
  ~RequestCounter();  // Stop()

  void Start();
  // Stops the flush thread and flushes what is left. Idempotent.
  void Stop();

  void Record(const std::string& model_id, Micros at);
  // Writes the counts gathered so far. Errors: the database's (counts are kept for next time).
  [[nodiscard]] Status Flush();

  // ("YYYY-MM-DD", requests) for every day from the day of `since` to the day of `until`
  // inclusive, oldest first, zeros included; stored and not yet flushed counts together.
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> PerDay(
      const std::string& model_id, Micros since, Micros until);

 private:
  using Key = std::pair<std::string, std::int64_t>;  // model id, day

  storage::Database& db_;
  std::chrono::milliseconds interval_;
  std::mutex flush_mu_;  // one flush at a time; PerDay holds it so no count is seen twice
  std::mutex mu_;
  std::map<Key, std::int64_t> pending_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace vectorize::embeddings
