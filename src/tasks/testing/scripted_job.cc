#include "tasks/testing/scripted_job.h"

#include <boost/json/parse.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace vectorize::tasks::testing {

Status ScriptedJob::Run(JobContext& ctx) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(ctx.task().inputs, ec);
  const boost::json::object empty;
  const boost::json::object& in = !ec && parsed.is_object() ? parsed.as_object() : empty;
  auto num = [&](const char* key, std::int64_t def) {
    const auto* v = in.if_contains(key);
    return v && v->is_int64() ? v->as_int64() : def;
  };
  auto str = [&](const char* key) {
    const auto* v = in.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto flag = [&](const char* key) {
    const auto* v = in.if_contains(key);
    return v && v->is_bool() && v->as_bool();
  };
  {
    std::lock_guard lock(mu_);
    max_concurrent_ = std::max(max_concurrent_, ++concurrent_);
    ++runs_;
    attempts_seen_.insert(ctx.task().attempts);
  }
  struct Leave {
    ScriptedJob* job;
    ~Leave() {
      std::lock_guard lock(job->mu_);
      --job->concurrent_;
    }
  } leave{this};

  const auto steps = num("steps", 1);
  const auto ms = num("ms", 0);
  const bool ignore_cancel = flag("ignore_cancel");
  for (std::int64_t i = 0; i < steps; ++i) {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (!ignore_cancel) {
      if (auto s = ctx.CheckCancelled(); !s) return s;
    }
    ctx.ReportProgress(static_cast<double>(i + 1) / static_cast<double>(steps),
                       "step " + std::to_string(i + 1) + "/" + std::to_string(steps));
  }
  if (flag("crash")) throw std::runtime_error("scripted crash");
  const std::string fail = str("fail");
  if (fail == "permanent")
    return Fail(Error::InvalidArgument("bad input: column 'question' missing"));
  if (fail == "transient" && ctx.task().attempts <= num("fail_times", 1'000'000)) {
    return Fail(Error::Unavailable("hub answered 503"));
  }
  ctx.SetResult(R"({"ok":true})");
  return {};
}

int ScriptedJob::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}
int ScriptedJob::max_concurrent() const {
  std::lock_guard lock(mu_);
  return max_concurrent_;
}
std::set<int> ScriptedJob::attempts_seen() const {
  std::lock_guard lock(mu_);
  return attempts_seen_;
}

}  // namespace vectorize::tasks::testing
