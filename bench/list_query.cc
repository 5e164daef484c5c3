// list_bench: the cost of GET /tasks inside the store, without HTTP or JSON — SqliteTaskStore::List
// timed in-process on a seeded database, for the same queries as bench/tasks_api.sh. Comparing
// its figures with tasks_api.sh's separates the database's share of a request from the server's.
//
//   list_bench --data-dir DIR [--iterations K] [--plan] [QUERY ...]
//
// QUERY is a query string like "limit=100&status=Q" (default: the tasks_api.sh list).

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_query.h"

namespace {

using namespace vectorize;
using namespace vectorize::tasks;

std::vector<std::pair<std::string, std::string>> SplitQuery(const std::string& q) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= q.size() && !q.empty()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string::npos) amp = q.size();
    const std::string part = q.substr(pos, amp - pos);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string::npos) {
        out.emplace_back(part, "");
      } else {
        out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
      }
    }
    pos = amp + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Time SqliteTaskStore::List in-process on a seeded database"};
  std::string data_dir;
  int iterations = 200;
  bool plan = false;
  std::vector<std::string> queries;
  cli.add_option("--data-dir", data_dir, "Seeded data directory (DIR/vectorize.db)")->required();
  cli.add_option("--iterations", iterations, "Timed calls per query (default 200)")
      ->check(CLI::Range(1, 1'000'000));
  cli.add_flag("--plan", plan, "Print EXPLAIN QUERY PLAN for each query");
  cli.add_option("queries", queries, "Query strings (default: the tasks_api.sh list)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  spdlog::set_level(spdlog::level::warn);
  if (queries.empty()) {
    queries = {"",
               "limit=100",
               "limit=100&offset=5000&within_hours=720",
               "status=R&status=Q&within_hours=720",
               "task_type=training&tag=tag-0042&within_hours=720",
               "within_hours=720&limit=50"};
  }
  auto store = SqliteTaskStore::Open({data_dir + "/vectorize.db", 2, false});
  if (!store) {
    std::fprintf(stderr, "list_bench: %s\n", store.error().message.c_str());
    return 1;
  }
  std::printf("%-52s %10s %10s %10s %7s\n", "query", "p50 us", "p99 us", "max us", "rows");
  for (const std::string& q : queries) {
    auto query = ParseTaskQuery(SplitQuery(q));
    if (!query) {
      std::printf("%-52s invalid: %s\n", q.c_str(), query.error().message.c_str());
      continue;
    }
    std::vector<double> us;
    size_t rows = 0;
    for (int i = 0; i < iterations + 5; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = (*store)->List(*query, NowMicros());
      const auto t1 = std::chrono::steady_clock::now();
      if (!r) {
        std::fprintf(stderr, "list_bench: %s: %s\n", q.c_str(), r.error().message.c_str());
        return 1;
      }
      rows = r->size();
      if (i >= 5) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) {
      return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
    };
    std::printf("%-52s %10.0f %10.0f %10.0f %7zu\n", ("?" + q).c_str(), pct(0.50), pct(0.99),
                us.back(), rows);
    if (plan) {
      auto lines = (*store)->ExplainQueryPlan(
          BuildListStatement(*query, NowMicros(), storage::Dialect::kSqlite));
      if (lines) {
        for (const auto& l : *lines) std::printf("    %s\n", l.c_str());
      }
    }
  }
  return 0;
}
