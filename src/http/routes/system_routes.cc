#include "http/routes/system_routes.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>

namespace vectorize::http {
namespace {

// Tasks counted for /metrics: every active task plus those that ended in the last day. A full
// count of finished tasks since the beginning of time would make each scrape a table scan.
constexpr std::int64_t kMetricsWindowHours = 24;

void RenderTaskMetrics(std::string& out, tasks::TaskService& service, const tasks::Engine* engine) {
  tasks::TaskQuery window;
  window.within_hours = kMetricsWindowHours;
  auto rows = service.Stats(window);
  if (rows) {
    out +=
        "# HELP vectorize_tasks Tasks by type and status: all queued and running ones, and those "
        "that ended in the last 24 hours.\n# TYPE vectorize_tasks gauge\n";
    std::map<std::pair<tasks::TaskType, tasks::TaskStatus>, std::int64_t> counts;
    for (const auto& r : *rows) counts[{r.type, r.status}] = r.count;
    for (auto t : tasks::kAllTaskTypes) {
      for (auto s : tasks::kAllTaskStatuses) {
        out += fmt::format("vectorize_tasks{{task_type=\"{}\",status=\"{}\"}} {}\n",
                           tasks::TaskTypeName(t), tasks::TaskStatusCode(s), counts[{t, s}]);
      }
    }
    out +=
        "# HELP vectorize_queue_depth Queued tasks per type.\n"
        "# TYPE vectorize_queue_depth gauge\n";
    for (auto t : tasks::kAllTaskTypes) {
      out += fmt::format("vectorize_queue_depth{{task_type=\"{}\"}} {}\n", tasks::TaskTypeName(t),
                         counts[{t, tasks::TaskStatus::kQueued}]);
    }
  }
  if (auto oldest = service.OldestQueued(); oldest) {
    out +=
        "# HELP vectorize_queue_oldest_age_seconds Age of the oldest queued task per type (0 when "
        "none is queued).\n# TYPE vectorize_queue_oldest_age_seconds gauge\n";
    std::map<tasks::TaskType, Micros> by_type(oldest->begin(), oldest->end());
    const Micros now = NowMicros();
    for (auto t : tasks::kAllTaskTypes) {
      const auto it = by_type.find(t);
      const double age = it == by_type.end()
                             ? 0.0
                             : static_cast<double>(std::max<Micros>(0, now - it->second)) / 1e6;
      out += fmt::format("vectorize_queue_oldest_age_seconds{{task_type=\"{}\"}} {:.3f}\n",
                         tasks::TaskTypeName(t), age);
    }
  }
  if (!engine) return;
  const auto c = engine->counters();
  out +=
      "# HELP vectorize_engine_runs_total Task runs finished by this process, by outcome.\n"
      "# TYPE vectorize_engine_runs_total counter\n";
  const std::pair<const char*, std::uint64_t> outcomes[] = {{"done", c.done},
                                                            {"failed", c.failed},
                                                            {"cancelled", c.cancelled},
                                                            {"retried", c.retried},
                                                            {"released", c.released}};
  for (const auto& [name, n] : outcomes) {
    out += fmt::format("vectorize_engine_runs_total{{outcome=\"{}\"}} {}\n", name, n);
  }
  out +=
      "# HELP vectorize_engine_claimed_total Tasks claimed by this process.\n"
      "# TYPE vectorize_engine_claimed_total counter\n";
  out += fmt::format("vectorize_engine_claimed_total {}\n", c.claimed);
  out +=
      "# HELP vectorize_engine_rescued_total Expired leases rescued by this process.\n"
      "# TYPE vectorize_engine_rescued_total counter\n";
  out += fmt::format("vectorize_engine_rescued_total{{outcome=\"requeued\"}} {}\n",
                     c.rescued_requeued);
  out += fmt::format("vectorize_engine_rescued_total{{outcome=\"failed\"}} {}\n", c.rescued_failed);
  out += fmt::format("vectorize_engine_rescued_total{{outcome=\"cancelled\"}} {}\n",
                     c.rescued_cancelled);
  out +=
      "# HELP vectorize_task_run_duration_seconds How long job runs took in this process.\n"
      "# TYPE vectorize_task_run_duration_seconds histogram\n";
  for (auto t : tasks::kAllTaskTypes) {
    const tasks::RunDurations h =
        c.run_durations.contains(t) ? c.run_durations.at(t) : tasks::RunDurations{};
    const auto name = tasks::TaskTypeName(t);
    for (size_t i = 0; i < tasks::kRunDurationBounds.size(); ++i) {
      out += fmt::format(
          "vectorize_task_run_duration_seconds_bucket{{task_type=\"{}\",le=\"{}\"}} {}\n", name,
          tasks::kRunDurationBounds[i], h.buckets[i]);
    }
    out += fmt::format(
        "vectorize_task_run_duration_seconds_bucket{{task_type=\"{}\",le=\"+Inf\"}} {}\n", name,
        h.count);
    out += fmt::format("vectorize_task_run_duration_seconds_sum{{task_type=\"{}\"}} {}\n", name,
                       h.sum_seconds);
    out += fmt::format("vectorize_task_run_duration_seconds_count{{task_type=\"{}\"}} {}\n", name,
                       h.count);
  }
  out +=
      "# HELP vectorize_engine_running Jobs running in this process.\n"
      "# TYPE vectorize_engine_running gauge\n";
  auto running = engine->RunningCounts();
  for (auto t : tasks::kAllTaskTypes) {
    out += fmt::format("vectorize_engine_running{{task_type=\"{}\"}} {}\n", tasks::TaskTypeName(t),
                       running[t]);
  }
}

}  // namespace

void AddSystemRoutes(Router& router, tasks::TaskService& service, const tasks::Engine* engine,
                     const HttpMetrics& http_metrics, std::vector<MetricsSource> more) {
  router.Add("GET", "/health", [&service](Request&) {
    boost::json::object body;
    if (auto s = service.Ping(); !s) {
      body["status"] = "unavailable";
      body["database"] = "unreachable";
      return Response::Json(503, body);
    }
    body["status"] = "ok";
    body["database"] = "ok";
    return Response::Json(200, body);
  });
  router.Add(
      "GET", "/metrics", [&service, engine, &http_metrics, more = std::move(more)](Request&) {
        std::string out;
        RenderTaskMetrics(out, service, engine);
        http_metrics.Render(out);
        for (const auto& render : more) render(out);
        return Response::Text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
      });
}

}  // namespace vectorize::http
