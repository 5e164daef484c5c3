// GET /metrics checked against the Prometheus text exposition format (version 0.0.4), line by
// line, the way `promtool check metrics` reads it: metric and label names, label value escaping,
// sample values, HELP/TYPE at most once per family and before its samples, each family's samples
// together, counters named *_total, no duplicate series, and histograms complete (_bucket with
// increasing `le` and non-decreasing counts ending in le="+Inf", which equals _count; _sum).

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http/http_metrics.h"
#include "http/router.h"
#include "http/routes/system_routes.h"
#include "tasks/engine.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_service.h"

namespace vectorize::http {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

bool ParseValue(const std::string& s, double& v) {
  if (s == "+Inf" || s == "Inf") return v = INFINITY, true;
  if (s == "-Inf") return v = -INFINITY, true;
  if (s == "NaN") return v = NAN, true;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The family a sample belongs to (histogram suffixes stripped when the family is a histogram).
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx(suffix);
    if (name.size() > sfx.size() && name.ends_with(sfx)) {
      const std::string base = name.substr(0, name.size() - sfx.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

// Every problem found, one message each (empty = valid).
std::vector<std::string> ValidateExposition(const std::string& text) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
  std::vector<std::string> errors;
  std::map<std::string, std::string> types;
  std::set<std::string> helped, finished_families, series;
  std::string current_family;
  std::vector<Sample> samples;
  if (!text.empty() && text.back() != '\n') errors.push_back("the last line has no newline");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto fail = [&](const std::string& what) {
    errors.push_back("line " + std::to_string(n) + ": " + what + ": " + line);
  };
  auto enter = [&](const std::string& family) {
    if (family == current_family) return;
    if (finished_families.contains(family)) fail("family " + family + " is not contiguous");
    if (!current_family.empty()) finished_families.insert(current_family);
    current_family = family;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kw, name;
      words >> hash >> kw >> name;
      if (kw != "HELP" && kw != "TYPE") continue;  // a plain comment
      if (!std::regex_match(name, kName)) fail("bad metric name");
      enter(name);
      if (kw == "HELP") {
        if (!helped.insert(name).second) fail("second HELP for " + name);
        if (line.size() <= hash.size() + kw.size() + name.size() + 3) fail("empty HELP text");
      } else {
        std::string type, extra;
        words >> type >> extra;
        if (!extra.empty()) fail("trailing text after TYPE");
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          fail("unknown type " + type);
        }
        if (types.contains(name)) fail("second TYPE for " + name);
        for (const auto& s : samples) {
          if (FamilyOf(s.name, {{name, type}}) == name) fail("TYPE after samples of " + name);
        }
        types[name] = type;
        if (type == "counter" && !name.ends_with("_total")) fail("counter not named *_total");
      }
      continue;
    }
    // name{label="value",...} value
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) fail("bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          fail("label without '='");
          break;
        }
        const std::string lname = line.substr(i, eq - i);
        if (!std::regex_match(lname, kLabel) || lname.starts_with("__")) fail("bad label name");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          fail("label value not quoted");
          break;
        }
        ++i;
        std::string value;
        bool closed = false;
        for (; i < line.size(); ++i) {
          if (line[i] == '\\') {
            if (i + 1 >= line.size()) break;
            const char e = line[++i];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              fail(std::string("bad escape \\") + e);
            }
          } else if (line[i] == '"') {
            closed = true;
            ++i;
            break;
          } else {
            value += line[i];
          }
        }
        if (!closed) {
          fail("unterminated label value");
          break;
        }
        if (!s.labels.emplace(lname, value).second) fail("duplicate label " + lname);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        fail("no closing brace");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no value");
      continue;
    }
    std::string rest = line.substr(i + 1);
    std::string value_text = rest.substr(0, rest.find(' '));
    if (!ParseValue(value_text, s.value)) fail("bad value '" + value_text + "'");
    if (rest.find(' ') != std::string::npos) {
      std::int64_t ts = 0;
      const std::string ts_text = rest.substr(rest.find(' ') + 1);
      auto r = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
      if (r.ec != std::errc() || r.ptr != ts_text.data() + ts_text.size()) fail("bad timestamp");
    }
    const std::string family = FamilyOf(s.name, types);
    if (!types.contains(family)) fail("sample without a TYPE line");
    enter(family);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) fail("duplicate series");
    samples.push_back(std::move(s));
  }
  // Histograms: per label set (without le), buckets increasing, +Inf last and equal to _count.
  for (const auto& [family, type] : types) {
    if (type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;
    std::map<std::string, double> counts;
    std::set<std::string> sums;
    for (const auto& s : samples) {
      auto labels = s.labels;
      std::string le;
      if (auto it = labels.find("le"); it != labels.end()) {
        le = it->second;
        labels.erase(it);
      }
      std::string key;
      for (const auto& [k, v] : labels) key += k + "=" + v + ",";
      if (s.name == family + "_bucket") {
        double bound = 0;
        if (le.empty() || !ParseValue(le, bound)) {
          errors.push_back(family + ": bucket without a valid le: '" + le + "'");
          continue;
        }
        buckets[key].emplace_back(bound, s.value);
      } else if (s.name == family + "_count") {
        counts[key] = s.value;
      } else if (s.name == family + "_sum") {
        sums.insert(key);
      } else if (s.name == family) {
        errors.push_back(family + ": a histogram sample without _bucket/_sum/_count");
      }
    }
    // (A family with no samples at all — nothing observed yet — is valid.)
    if (buckets.empty() && (!counts.empty() || !sums.empty())) {
      errors.push_back(family + ": histogram without buckets");
    }
    for (const auto& [key, list] : buckets) {
      for (std::size_t i = 1; i < list.size(); ++i) {
        if (!(list[i].first > list[i - 1].first)) {
          errors.push_back(family + "{" + key + "}: le not increasing");
        }
        if (list[i].second < list[i - 1].second) {
          errors.push_back(family + "{" + key + "}: bucket counts decrease");
        }
      }
      if (list.empty() || !std::isinf(list.back().first)) {
        errors.push_back(family + "{" + key + "}: no le=\"+Inf\" bucket last");
      } else if (!counts.contains(key) || counts[key] != list.back().second) {
        errors.push_back(family + "{" + key + "}: _count missing or not equal to the +Inf bucket");
      }
      if (!sums.contains(key)) errors.push_back(family + "{" + key + "}: _sum missing");
    }
  }
  return errors;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(MetricsFormatTest, TheValidatorCatchesWhatPromtoolRejects) {
  const std::string ok =
      "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n"
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.3\nh_count 2\n";
  EXPECT_EQ(Join(ValidateExposition(ok)), "");
  const std::vector<std::string> bad = {
      "# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n",        // TYPE twice
      "# HELP g G.\n# HELP g G.\n# TYPE g gauge\ng 1\n",                    // HELP twice
      "# TYPE g gauge\ng{x=\"a\\tb\"} 1\n",                                 // bad escape
      "# TYPE g gauge\ng{x=\"a} 1\n",                                       // unterminated value
      "# TYPE g gauge\ng{1x=\"a\"} 1\n",                                    // bad label name
      "# TYPE g gauge\ng one\n",                                            // bad value
      "# TYPE g gauge\ng 1\ng 2\n",                                         // duplicate series
      "# TYPE c counter\nc 1\n",                                            // counter not *_total
      "# TYPE g gauge\ng{x=\"1\"} 1\n# TYPE f gauge\nf 1\ng{x=\"2\"} 1\n",  // not contiguous
      "g 1\n",                                                              // no TYPE
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",     // no +Inf
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",  // count != +Inf
      "# TYPE g gauge\ng 1",                                                // no final newline
  };
  for (const auto& text : bad) EXPECT_FALSE(ValidateExposition(text).empty()) << text;
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("vz-metrics-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    auto store = tasks::SqliteTaskStore::Open({(dir_ / "vectorize.db").string()});
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    tasks::EngineOptions o;
    o.concurrency = {{tasks::TaskType::kTraining, 1}};
    engine_ = std::make_unique<tasks::Engine>(*store_, o);  // not started: counters only
    service_ = std::make_unique<tasks::TaskService>(*store_, engine_.get(), 3);
    AddSystemRoutes(router_, *service_, engine_.get(), metrics_);
  }
  void TearDown() override {
    router_ = Router();
    service_.reset();
    engine_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Response Scrape() {
    Request req;
    req.method = "GET";
    req.path = "/metrics";
    return router_.Dispatch(req);
  }

  std::filesystem::path dir_;
  std::unique_ptr<tasks::SqliteTaskStore> store_;
  std::unique_ptr<tasks::Engine> engine_;
  std::unique_ptr<tasks::TaskService> service_;
  HttpMetrics metrics_;
  Router router_;
};

TEST_F(MetricsEndpointTest, TheExpositionIsValidIncludingAwkwardLabelValues) {
  // Label values a client can influence (methods collapse to a fixed set, routes are patterns,
  // but the renderer must escape whatever it is given).
  metrics_.Record("GET", "/tasks/{id}", 200, 0.002);
  metrics_.Record("GET", "/odd\"route\\with\nnewline", 404, 0.2);
  metrics_.Record("POST", "/tasks/{id}/cancel", 409, 7.5);
  const Response r = Scrape();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Join(ValidateExposition(r.body)), "") << r.body;
  EXPECT_NE(r.body.find("route=\"/odd\\\"route\\\\with\\nnewline\""), std::string::npos);
  for (const char* family :
       {"vectorize_tasks", "vectorize_queue_depth", "vectorize_queue_oldest_age_seconds",
        "vectorize_engine_runs_total", "vectorize_task_run_duration_seconds",
        "vectorize_http_requests_total", "vectorize_http_request_duration_seconds"}) {
    EXPECT_NE(r.body.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
}

TEST_F(MetricsEndpointTest, OldestQueuedAgeIsPerTypeAndZeroWhenNothingIsQueued) {
  const Micros now = NowMicros();
  std::vector<tasks::TaskDetail> rows(3);
  const std::pair<tasks::TaskType, Micros> made[] = {
      {tasks::TaskType::kTraining, now - 600 * kMicrosPerSecond},
      {tasks::TaskType::kTraining, now - 60 * kMicrosPerSecond},
      {tasks::TaskType::kEvaluation, now - 5 * kMicrosPerSecond}};
  for (int i = 0; i < 3; ++i) {
    rows[i].id = "00000000-0000-4000-8000-00000000000" + std::to_string(i);
    rows[i].type = made[i].first;
    rows[i].status = tasks::TaskStatus::kQueued;
    rows[i].created_at = rows[i].updated_at = rows[i].run_after = made[i].second;
  }
  ASSERT_TRUE(store_->BulkInsert(rows));
  const std::string body = Scrape().body;
  auto age = [&](std::string_view type) {
    const std::string key =
        std::string("vectorize_queue_oldest_age_seconds{task_type=\"") + std::string(type) + "\"} ";
    const auto pos = body.find(key);
    EXPECT_NE(pos, std::string::npos) << type;
    return pos == std::string::npos ? -1.0 : std::stod(body.substr(pos + key.size()));
  };
  EXPECT_NEAR(age("training"), 600, 5);
  EXPECT_NEAR(age("evaluation"), 5, 5);
  EXPECT_EQ(age("synthesis"), 0);
  EXPECT_EQ(Join(ValidateExposition(body)), "");
}

}  // namespace
}  // namespace vectorize::http
