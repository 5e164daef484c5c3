// seed_tasks: fills a Vectorize database with N tasks in the SPEC §4 benchmark distribution, so
// that GET /tasks can be measured at 10k and 1M stored tasks (bench/tasks_api.sh).
//
//   seed_tasks --data-dir DIR --tasks N [--seed S] [--now RFC3339] [--database-url URL] [--append]
//
// Distribution (SPEC §4): evenly over the five task types; min(200, 2 % of N) queued and
// min(100, 1 % of N) running; the rest 88 % D, 9 % F, 3 % C; 30 % untagged, the others uniform
// among tag-0000…tag-0999; created_at uniform over the 30 days before `now`; finished tasks ended
// 1 s–1 h after creation (never after `now`); running ones held by worker "seed" with a lease far
// in the future (so a serving process never rescues them).
//
// Deterministic: the same --seed and --now give the same rows (ids included). Ids are
// UUIDv7-shaped: the 48-bit millisecond timestamp of created_at, 12 random bits, the variant, and
// 62 bits made of 30 random bits and the task's 32-bit sequence number (unique by construction).
//
// Rows go in through SqliteTaskStore::BulkInsert (the product's own insert path, schema created by
// the product's migrations), in created_at order — like a live service, where rows arrive in time
// order — in batches of --batch rows per transaction.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "common/time.h"
#include "common/uuid.h"
#include "storage/sqlite/connection.h"
#include "tasks/postgres/postgres_task_store.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task.h"

namespace {

using vectorize::Micros;
using vectorize::tasks::TaskDetail;
using vectorize::tasks::TaskStatus;
using vectorize::tasks::TaskType;

constexpr Micros kSecond = vectorize::kMicrosPerSecond;
constexpr Micros kHour = vectorize::kMicrosPerHour;
constexpr Micros kDay = 24 * kHour;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// UUIDv7 layout with deterministic bits (see the file comment).
std::string SeedId(Micros created_at, std::uint64_t seq, std::mt19937_64& rng) {
  const std::uint64_t ms = static_cast<std::uint64_t>(created_at / 1000);
  const std::uint64_t r = rng();
  std::array<unsigned char, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  const std::uint64_t rand_a = r & 0xfff;
  b[6] = static_cast<unsigned char>(0x70 | (rand_a >> 8));
  b[7] = static_cast<unsigned char>(rand_a & 0xff);
  // 62 bits: 30 random bits, then the 32-bit sequence number.
  const std::uint64_t rand_b = (((r >> 12) & 0x3fffffffULL) << 32) | (seq & 0xffffffffULL);
  for (int i = 8; i < 16; ++i) b[i] = static_cast<unsigned char>(rand_b >> (8 * (15 - i)));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  return vectorize::FormatUuid(b);
}

// Tasks already stored, over the five tables.
// Every task stored: the window of the largest within_hours holds them all.
vectorize::Result<std::int64_t> CountTasks(vectorize::tasks::TaskStore& store) {
  auto rows =
      store.Stats(vectorize::tasks::TaskQuery{.within_hours = vectorize::tasks::kMaxWithinHours},
                  vectorize::NowMicros());
  if (!rows) return vectorize::Fail(rows.error());
  std::int64_t total = 0;
  for (const auto& r : *rows) total += r.count;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Fill a Vectorize database with N tasks in the SPEC §4 benchmark distribution"};
  std::string data_dir, database_url, now_text;
  std::int64_t n = 0;
  std::uint64_t seed = 42;
  int batch = 50'000;
  bool append = false;
  cli.add_option("--data-dir", data_dir, "Data directory (database: DIR/vectorize.db)");
  cli.add_option("--tasks", n, "Number of tasks to insert")
      ->required()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{0xffffffff}));
  cli.add_option("--seed", seed, "Random seed (default 42)");
  cli.add_option("--now", now_text,
                 "Reference time, RFC 3339 (default: the current time); fix it with --seed for "
                 "byte-identical data");
  cli.add_option("--database-url", database_url,
                 "sqlite:///path/file.db or postgresql://… (overrides --data-dir)");
  cli.add_option("--batch", batch, "Rows per BulkInsert transaction (default 50000)")
      ->check(CLI::Range(1, 10'000'000));
  cli.add_flag("--append", append, "Add to a database that already holds tasks");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  // --- where
  std::string path;  // SQLite file; empty for PostgreSQL
  const bool postgres =
      database_url.starts_with("postgresql:") || database_url.starts_with("postgres:");
  if (postgres) {
    // PostgreSQL: the URL is used as given.
  } else if (!database_url.empty()) {
    auto p = vectorize::storage::sqlite::SqlitePathFromUrl(database_url);
    if (!p) {
      std::fprintf(stderr,
                   "seed_tasks: unsupported database URL '%s' (expected sqlite://… or "
                   "postgresql://…)\n",
                   database_url.c_str());
      return 2;
    }
    path = *p;
  } else if (!data_dir.empty()) {
    while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
    path = data_dir + "/vectorize.db";
  } else {
    std::fprintf(stderr, "seed_tasks: give --data-dir DIR or --database-url URL\n");
    return 2;
  }
  Micros now = vectorize::NowMicros();
  if (!now_text.empty()) {
    auto t = vectorize::ParseRfc3339(now_text);
    if (!t) {
      std::fprintf(stderr, "seed_tasks: --now: not an RFC 3339 time: '%s'\n", now_text.c_str());
      return 2;
    }
    now = *t;
  }
  if (!postgres) {
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) {
      std::fprintf(stderr, "seed_tasks: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
      return 1;
    }
  }

  // --- open (creates and migrates the schema exactly as the service does)
  vectorize::Result<std::unique_ptr<vectorize::tasks::TaskStore>> store =
      vectorize::Fail(vectorize::Error::Internal("no store"));
  if (postgres) {
    auto pg = vectorize::tasks::PostgresTaskStore::Open({database_url, 2});
    if (pg)
      store = std::unique_ptr<vectorize::tasks::TaskStore>(std::move(*pg));
    else
      store = vectorize::Fail(pg.error());
  } else {
    auto lite = vectorize::tasks::SqliteTaskStore::Open({path, 1, true});
    if (lite)
      store = std::unique_ptr<vectorize::tasks::TaskStore>(std::move(*lite));
    else
      store = vectorize::Fail(lite.error());
  }
  if (!store) {
    std::fprintf(stderr, "seed_tasks: %s\n", store.error().message.c_str());
    return 1;
  }
  if (postgres) path = "(postgresql)";
  auto existing = CountTasks(**store);
  if (!existing) {
    std::fprintf(stderr, "seed_tasks: %s\n", existing.error().message.c_str());
    return 1;
  }
  if (*existing > 0 && !append) {
    std::fprintf(stderr,
                 "seed_tasks: %s already holds %lld tasks; refusing to add more (use --append, or "
                 "a fresh --data-dir)\n",
                 path.c_str(), static_cast<long long>(*existing));
    return 1;
  }
  if (*existing + n > 0xffffffffLL) {
    std::fprintf(stderr, "seed_tasks: at most 2^32 tasks per database\n");
    return 2;
  }
  // Appending: continue the sequence numbers (unique ids) and vary the stream.
  const std::uint64_t seq0 = static_cast<std::uint64_t>(*existing);
  std::mt19937_64 rng(seed ^ (seq0 * 0x9e3779b97f4a7c15ULL));

  // --- plan: counts per state, then per-task type/state/created_at (created_at sorted)
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t n_q = std::min<std::int64_t>(200, n * 2 / 100);
  const std::int64_t n_r = std::min<std::int64_t>(100, n / 100);
  const std::int64_t rest = n - n_q - n_r;
  const std::int64_t n_d = (rest * 88 + 50) / 100;
  const std::int64_t n_f = (rest * 9 + 50) / 100;
  const std::int64_t n_c = rest - n_d - n_f;

  std::vector<std::uint8_t> status(static_cast<size_t>(n));
  {
    size_t i = 0;
    auto fill = [&](TaskStatus s, std::int64_t count) {
      for (std::int64_t k = 0; k < count; ++k) status[i++] = static_cast<std::uint8_t>(s);
    };
    fill(TaskStatus::kQueued, n_q);
    fill(TaskStatus::kRunning, n_r);
    fill(TaskStatus::kDone, n_d);
    fill(TaskStatus::kFailed, n_f);
    fill(TaskStatus::kCancelled, n_c);
    std::shuffle(status.begin(), status.end(), rng);
  }
  std::vector<std::uint8_t> type(static_cast<size_t>(n));
  for (size_t i = 0; i < type.size(); ++i) type[i] = static_cast<std::uint8_t>(i % 5);
  std::shuffle(type.begin(), type.end(), rng);
  std::vector<Micros> created(static_cast<size_t>(n));
  {
    std::uniform_int_distribution<Micros> when(now - 30 * kDay, now - 1);
    for (auto& c : created) c = when(rng);
    std::sort(created.begin(), created.end());
  }
  const auto t_plan = std::chrono::steady_clock::now();

  // --- rows, batch by batch
  std::uniform_int_distribution<int> tag_pick(0, 999);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<Micros> run_for(kSecond, kHour);
  const Micros far_lease = now + 3650 * kDay;
  std::vector<TaskDetail> rows;
  rows.reserve(static_cast<size_t>(std::min<std::int64_t>(batch, n)));
  std::chrono::steady_clock::duration build_time{}, insert_time{};
  std::int64_t per_type[5] = {}, per_status[5] = {}, tagged = 0;

  for (std::int64_t begin = 0; begin < n; begin += batch) {
    const auto b0 = std::chrono::steady_clock::now();
    const std::int64_t end = std::min<std::int64_t>(n, begin + batch);
    rows.clear();
    for (std::int64_t i = begin; i < end; ++i) {
      const size_t k = static_cast<size_t>(i);
      TaskDetail t;
      t.type = vectorize::tasks::kAllTaskTypes[type[k]];
      t.status = static_cast<TaskStatus>(status[k]);
      t.created_at = created[k];
      t.id = SeedId(t.created_at, seq0 + static_cast<std::uint64_t>(i), rng);
      if (unit(rng) >= 0.30) {
        t.tag = fmt::format("tag-{:04d}", tag_pick(rng));
        ++tagged;
      }
      t.attempts = 1;
      t.max_attempts = 3;
      t.run_after = t.created_at;
      t.inputs = "{}";
      const Micros ran = run_for(rng);
      switch (t.status) {
        case TaskStatus::kQueued: t.updated_at = t.created_at; break;
        case TaskStatus::kRunning:
          t.started_at = t.created_at;
          t.updated_at = std::min(now, t.created_at + ran);
          t.worker_id = "seed";
          t.lease_expires_at = far_lease;
          t.progress = 0.5;
          t.progress_msg = "seeded: running";
          break;
        case TaskStatus::kDone:
        case TaskStatus::kFailed:
        case TaskStatus::kCancelled:
          t.started_at = t.created_at;
          t.end_date = std::min(now, t.created_at + ran);
          t.updated_at = *t.end_date;
          if (t.status == TaskStatus::kDone) {
            t.progress = 1.0;
            t.result = R"({"ok":true})";
          } else if (t.status == TaskStatus::kFailed) {
            t.error_msg = "seeded failure";
          } else {
            t.error_msg = "cancelled by request";
          }
          break;
      }
      ++per_type[type[k]];
      ++per_status[status[k]];
      rows.push_back(std::move(t));
    }
    const auto b1 = std::chrono::steady_clock::now();
    if (auto s = (*store)->BulkInsert(rows); !s) {
      std::fprintf(stderr, "seed_tasks: insert failed after %lld rows: %s\n",
                   static_cast<long long>(begin), s.error().message.c_str());
      return 1;
    }
    const auto b2 = std::chrono::steady_clock::now();
    build_time += b1 - b0;
    insert_time += b2 - b1;
  }
  const auto t_insert = std::chrono::steady_clock::now();
  auto total = CountTasks(**store);
  store->reset();  // close the store's connections

  // Fold the WAL into the database file so `serve` starts from a compact file. Not a schema
  // change: only the WAL is emptied.
  if (!postgres) {
    auto conn = vectorize::storage::sqlite::Connection::Open(path);
    if (conn) (void)(*conn)->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const auto t_end = std::chrono::steady_clock::now();

  std::printf("seeded %lld tasks into %s (seed %llu, now %s)\n", static_cast<long long>(n),
              path.c_str(), static_cast<unsigned long long>(seed),
              vectorize::FormatRfc3339(now).c_str());
  std::printf(
      "  types:    model_upload %lld, dataset_upload %lld, training %lld, evaluation %lld, "
      "synthesis %lld\n",
      static_cast<long long>(per_type[0]), static_cast<long long>(per_type[1]),
      static_cast<long long>(per_type[2]), static_cast<long long>(per_type[3]),
      static_cast<long long>(per_type[4]));
  std::printf("  statuses: Q %lld, R %lld, D %lld, F %lld, C %lld; tagged %lld (%.1f %%)\n",
              static_cast<long long>(per_status[0]), static_cast<long long>(per_status[1]),
              static_cast<long long>(per_status[2]), static_cast<long long>(per_status[3]),
              static_cast<long long>(per_status[4]), static_cast<long long>(tagged),
              100.0 * static_cast<double>(tagged) / static_cast<double>(n));
  std::printf("  tasks in the database now: %lld\n", total ? static_cast<long long>(*total) : -1LL);
  std::printf(
      "  time: plan %.2f s, build rows %.2f s, BulkInsert %.2f s, checkpoint %.2f s; "
      "total %.2f s\n",
      Seconds(t_plan - t0), Seconds(build_time), Seconds(insert_time), Seconds(t_end - t_insert),
      Seconds(t_end - t0));
  std::printf("  rate: %.0f rows/s overall, %.0f rows/s in BulkInsert\n",
              static_cast<double>(n) / Seconds(t_end - t0),
              static_cast<double>(n) / Seconds(insert_time));
  return 0;
}
