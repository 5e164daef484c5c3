#include "config/settings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <type_traits>
#include <utility>

namespace vectorize::config::internal {
namespace {

using Kind = RawValue::Kind;

constexpr Range kPositive = {.min = 0, .min_exclusive = true};
constexpr Range kConcurrency = {.min = 0, .max = 64};

std::unexpected<std::string> Reject(std::string reason) {
  return std::unexpected<std::string>(std::move(reason));
}

// Concatenation without `"literal" + std::string`, which trips GCC 12's -Wrestrict false positive.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

Check CheckLogLevel(std::string_view v) {
  constexpr std::array<std::string_view, 6> kLevels = {"trace", "debug", "info",
                                                       "warn",  "error", "off"};
  if (std::ranges::find(kLevels, v) != kLevels.end()) return {};
  return Reject(Cat({"'", v, "' is not one of trace, debug, info, warn, error, off"}));
}

Check CheckLogFormat(std::string_view v) {
  if (v == "text" || v == "json") return {};
  return Reject(Cat({"'", v, "' is not one of text, json"}));
}

Check CheckDatabaseUrl(std::string_view v) {
  if (v.empty() || v.starts_with("sqlite://") || v.starts_with("postgresql://") ||
      v.starts_with("postgres://")) {
    return {};
  }
  // The value may hold a password: echo it redacted.
  return Reject(Cat({"'", RedactUrl(std::string(v)),
                     "' must start with sqlite://, postgresql:// or postgres://"}));
}

Check CheckHttpUrl(std::string_view v) {
  if (v.starts_with("http://") || v.starts_with("https://")) return {};
  return Reject(Cat({"'", RedactUrl(std::string(v)), "' must start with http:// or https://"}));
}

Check CheckApiPrefix(std::string_view v) {
  if (v.empty() || v.starts_with('/')) return {};
  return Reject(Cat({"'", v, "' must be empty or start with '/'"}));
}

Check CheckNotEmpty(std::string_view v) {
  if (!v.empty()) return {};
  return Reject("must not be empty");
}

// Designated initialisers keep each row readable; the order is the order of help and describe.
constexpr std::array kSettings = {
    // --- server
    Setting{.key = "host",
            .env = "VECTORIZE_HOST",
            .flag = "--host",
            .section = "server",
            .help = "Address the HTTP server listens on. 0.0.0.0 exposes it to the network.",
            .field = [](Config& c) -> FieldRef { return &c.host; },
            .check = CheckNotEmpty},
    Setting{.key = "port",
            .env = "VECTORIZE_PORT",
            .flag = "--port",
            .section = "server",
            .help = "TCP port of the HTTP server; 0 picks a free port (printed at start-up).",
            .field = [](Config& c) -> FieldRef { return &c.port; },
            .range = {.min = 0, .max = 65535}},
    Setting{.key = "api_prefix",
            .env = "VECTORIZE_API_PREFIX",
            .section = "server",
            .help = "Path prefix the API also answers under (routes answer at / too). "
                    "Empty or starting with '/'.",
            .field = [](Config& c) -> FieldRef { return &c.api_prefix; },
            .check = CheckApiPrefix},
    Setting{.key = "http_threads",
            .env = "VECTORIZE_HTTP_THREADS",
            .section = "server",
            .help = "Threads serving HTTP requests (1-256). Requests are short; heavy work runs "
                    "in the task workers, so a few threads suffice.",
            .field = [](Config& c) -> FieldRef { return &c.http_threads; },
            .range = {.min = 1, .max = 256}},
    Setting{.key = "http_blocking_threads",
            .env = "VECTORIZE_HTTP_BLOCKING_THREADS",
            .section = "server",
            .help = "Threads for requests that wait — embeddings (their forward pass), uploads, "
                    "remote checks — so that they never hold up the HTTP threads (1-1024). "
                    "More such requests at once wait for a free thread.",
            .field = [](Config& c) -> FieldRef { return &c.http_blocking_threads; },
            .range = {.min = 1, .max = 1024}},
    Setting{.key = "http_max_waiting",
            .env = "VECTORIZE_HTTP_MAX_WAITING",
            .section = "server",
            .help = "Requests that wait may queue for a free blocking thread up to this many "
                    "(0-1000000); beyond it they are answered 429 OVERLOADED with Retry-After "
                    "at once instead of queueing without bound.",
            .field = [](Config& c) -> FieldRef { return &c.http_max_waiting; },
            .range = {.min = 0, .max = 1'000'000}},
    Setting{.key = "max_request_bytes",
            .env = "VECTORIZE_MAX_REQUEST_BYTES",
            .section = "server",
            .help = "Largest JSON request body accepted, in bytes; larger bodies are refused.",
            .field = [](Config& c) -> FieldRef { return &c.max_request_bytes; },
            .range = {.min = 1}},
    Setting{.key = "max_upload_bytes",
            .env = "VECTORIZE_MAX_UPLOAD_BYTES",
            .section = "server",
            .help = "Largest uploaded file accepted, in bytes. Uploads are stored under data_dir.",
            .field = [](Config& c) -> FieldRef { return &c.max_upload_bytes; },
            .range = {.min = 1}},
    Setting{.key = "api_keys",
            .env = "VECTORIZE_API_KEYS",
            .section = "server",
            .help = "API keys clients must present; empty = no authentication. Comma-separated "
                    "in the environment; a TOML array or comma-separated string in the file.",
            .field = [](Config& c) -> FieldRef { return &c.api_keys; },
            .secret = true},
    // --- storage
    Setting{.key = "data_dir",
            .env = "VECTORIZE_DATA_DIR",
            .flag = "--data-dir",
            .section = "storage",
            .help = "Directory for the SQLite database, datasets and models.",
            .field = [](Config& c) -> FieldRef { return &c.data_dir; },
            .check = CheckNotEmpty},
    Setting{.key = "database_url",
            .env = "VECTORIZE_DATABASE_URL",
            .flag = "--database-url",
            .section = "storage",
            .help = "sqlite://PATH or postgresql://USER:PASS@HOST:PORT/DB. Empty = "
                    "sqlite://<data_dir>/vectorize.db. PostgreSQL is needed for `vectorize "
                    "worker` on other machines.",
            .field = [](Config& c) -> FieldRef { return &c.database_url; },
            .check = CheckDatabaseUrl},
    Setting{.key = "migrate_on_start",
            .env = "VECTORIZE_MIGRATE_ON_START",
            .flag = "--no-migrate",
            .section = "storage",
            .help = "Create or upgrade the schema when serve/worker start. Turn off to run "
                    "`vectorize migrate` as a separate deployment step.",
            .field = [](Config& c) -> FieldRef { return &c.migrate_on_start; }},
    // --- task engine
    Setting{.key = "run_workers",
            .env = "VECTORIZE_RUN_WORKERS",
            .flag = "--no-workers",
            .section = "task engine",
            .help = "Run task workers inside this process. false = API only: tasks are queued "
                    "but only separate `vectorize worker` processes run them.",
            .field = [](Config& c) -> FieldRef { return &c.run_workers; }},
    Setting{.key = "concurrency.model_upload",
            .env = "VECTORIZE_CONCURRENCY_MODEL_UPLOAD",
            .section = "task engine",
            .help = "Model uploads this process runs at once (0-64; 0 = none). Network-bound.",
            .field = [](Config& c) -> FieldRef { return &c.concurrency.model_upload; },
            .range = kConcurrency},
    Setting{.key = "concurrency.dataset_upload",
            .env = "VECTORIZE_CONCURRENCY_DATASET_UPLOAD",
            .section = "task engine",
            .help = "Dataset uploads this process runs at once (0-64; 0 = none). Mostly I/O.",
            .field = [](Config& c) -> FieldRef { return &c.concurrency.dataset_upload; },
            .range = kConcurrency},
    Setting{.key = "concurrency.training",
            .env = "VECTORIZE_CONCURRENCY_TRAINING",
            .section = "task engine",
            .help = "Training jobs this process runs at once (0-64; 0 = none). CPU-heavy: more "
                    "than one per few cores only slows each down.",
            .field = [](Config& c) -> FieldRef { return &c.concurrency.training; },
            .range = kConcurrency},
    Setting{.key = "concurrency.evaluation",
            .env = "VECTORIZE_CONCURRENCY_EVALUATION",
            .section = "task engine",
            .help = "Evaluation jobs this process runs at once (0-64; 0 = none). CPU-heavy.",
            .field = [](Config& c) -> FieldRef { return &c.concurrency.evaluation; },
            .range = kConcurrency},
    Setting{.key = "concurrency.synthesis",
            .env = "VECTORIZE_CONCURRENCY_SYNTHESIS",
            .section = "task engine",
            .help = "Synthesis jobs this process runs at once (0-64; 0 = none).",
            .field = [](Config& c) -> FieldRef { return &c.concurrency.synthesis; },
            .range = kConcurrency},
    Setting{.key = "lease_seconds",
            .env = "VECTORIZE_LEASE_SECONDS",
            .section = "task engine",
            .help = "How long a running task stays claimed without a heartbeat before another "
                    "worker may take it over. Shorter = faster recovery from a crashed worker, "
                    "but a stalled (not dead) worker is more likely to lose its task.",
            .field = [](Config& c) -> FieldRef { return &c.lease_seconds; },
            .range = kPositive},
    Setting{.key = "heartbeat_seconds",
            .env = "VECTORIZE_HEARTBEAT_SECONDS",
            .section = "task engine",
            .help = "How often a worker renews its lease; must be below lease_seconds. A third "
                    "of the lease survives two missed beats; shorter = more database writes.",
            .field = [](Config& c) -> FieldRef { return &c.heartbeat_seconds; },
            .range = kPositive},
    Setting{.key = "rescue_interval_seconds",
            .env = "VECTORIZE_RESCUE_INTERVAL_SECONDS",
            .section = "task engine",
            .help = "How often expired leases are looked for and their tasks re-queued or "
                    "failed. Shorter = quicker recovery, more queries.",
            .field = [](Config& c) -> FieldRef { return &c.rescue_interval_seconds; },
            .range = kPositive},
    Setting{.key = "max_attempts",
            .env = "VECTORIZE_MAX_ATTEMPTS",
            .section = "task engine",
            .help = "Runs a task gets (first run + retries after retryable errors or a lost "
                    "worker) before it fails for good. At least 1.",
            .field = [](Config& c) -> FieldRef { return &c.max_attempts; },
            .range = {.min = 1}},
    Setting{.key = "retry_base_seconds",
            .env = "VECTORIZE_RETRY_BASE_SECONDS",
            .section = "task engine",
            .help = "Delay before the first retry; doubles with each attempt, with jitter.",
            .field = [](Config& c) -> FieldRef { return &c.retry_base_seconds; },
            .range = kPositive},
    Setting{.key = "retry_max_seconds",
            .env = "VECTORIZE_RETRY_MAX_SECONDS",
            .section = "task engine",
            .help = "Upper bound of the retry delay; at least retry_base_seconds.",
            .field = [](Config& c) -> FieldRef { return &c.retry_max_seconds; },
            .range = kPositive},
    // --- remote services
    Setting{.key = "hf_endpoint",
            .env = "HF_ENDPOINT",
            .section = "remote services",
            .help = "Hugging Face Hub base URL (a mirror works too).",
            .field = [](Config& c) -> FieldRef { return &c.hf_endpoint; },
            .check = CheckHttpUrl},
    Setting{.key = "hf_token",
            .env = "HF_TOKEN",
            .section = "remote services",
            .help = "Hugging Face access token, for private and gated models. Secret.",
            .field = [](Config& c) -> FieldRef { return &c.hf_token; },
            .secret = true},
    Setting{.key = "github_api_url",
            .env = "GITHUB_API_URL",
            .section = "remote services",
            .help = "GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).",
            .field = [](Config& c) -> FieldRef { return &c.github_api_url; },
            .check = CheckHttpUrl},
    Setting{.key = "github_token",
            .env = "GITHUB_TOKEN",
            .section = "remote services",
            .help = "GitHub token, for private repositories and higher rate limits. Secret.",
            .field = [](Config& c) -> FieldRef { return &c.github_token; },
            .secret = true},
    Setting{.key = "hf_datasets_server",
            .env = "VECTORIZE_HF_DATASETS_SERVER",
            .section = "remote services",
            .help = "Hugging Face dataset-viewer API (/splits, /rows): how Hub imports read "
                    "datasets published only as Parquet. Empty = "
                    "https://datasets-server.huggingface.co.",
            .field = [](Config& c) -> FieldRef { return &c.hf_datasets_server; },
            .check = CheckHttpUrl},
    // --- logs
    Setting{.key = "log_level",
            .env = "VECTORIZE_LOG_LEVEL",
            .flag = "--log-level",
            .section = "logs",
            .help = "One of trace, debug, info, warn, error, off.",
            .field = [](Config& c) -> FieldRef { return &c.log_level; },
            .check = CheckLogLevel},
    Setting{.key = "log_format",
            .env = "VECTORIZE_LOG_FORMAT",
            .flag = "--log-format",
            .section = "logs",
            .help = "text for people, json for one JSON object per line (for log collectors).",
            .field = [](Config& c) -> FieldRef { return &c.log_format; },
            .check = CheckLogFormat},
    // --- task events
    Setting{.key = "events_heartbeat_seconds",
            .env = "VECTORIZE_EVENTS_HEARTBEAT_SECONDS",
            .section = "task events",
            .help = "How often GET /tasks/events sends a heartbeat comment to each client, so "
                    "proxies and clients keep an idle stream open.",
            .field = [](Config& c) -> FieldRef { return &c.events_heartbeat_seconds; },
            .range = kPositive},
    Setting{.key = "embeddings_max_batch",
            .env = "VECTORIZE_EMBEDDINGS_MAX_BATCH",
            .section = "embeddings",
            .help = "Sequences per forward pass of the dynamic batcher (1-1024).",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_max_batch; },
            .range = {.min = 1, .max = 1024}},
    Setting{.key = "embeddings_batch_wait_ms",
            .env = "VECTORIZE_EMBEDDINGS_BATCH_WAIT_MS",
            .section = "embeddings",
            .help = "Milliseconds the batcher waits for more requests before a forward pass "
                    "(0-1000; 0 = no wait).",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_batch_wait_ms; },
            .range = {.min = 0, .max = 1000}},
    Setting{.key = "embeddings_queue_size",
            .env = "VECTORIZE_EMBEDDINGS_QUEUE_SIZE",
            .section = "embeddings",
            .help = "Sequences waiting per model; a request that does not fit is answered 429.",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_queue_size; },
            .range = {.min = 1}},
    Setting{.key = "embeddings_max_inputs",
            .env = "VECTORIZE_EMBEDDINGS_MAX_INPUTS",
            .section = "embeddings",
            .help = "Inputs per embeddings request; more is answered 413.",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_max_inputs; },
            .range = {.min = 1}},
    Setting{.key = "embeddings_max_tokens",
            .env = "VECTORIZE_EMBEDDINGS_MAX_TOKENS",
            .section = "embeddings",
            .help = "Tokens per embeddings request (after truncation); more is answered 413.",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_max_tokens; },
            .range = {.min = 1}},
    Setting{.key = "embeddings_cached_models",
            .env = "VECTORIZE_EMBEDDINGS_CACHED_MODELS",
            .section = "embeddings",
            .help = "Models kept loaded in memory (least recently used is unloaded first).",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_cached_models; },
            .range = {.min = 1, .max = 64}},
    Setting{.key = "inference_threads",
            .env = "VECTORIZE_INFERENCE_THREADS",
            .section = "embeddings",
            .help = "Threads an embedding batch is spread over (each runs its share of the "
                    "sequences single-threaded); 0 = one per usable CPU.",
            .field = [](Config& c) -> FieldRef { return &c.inference_threads; },
            .range = {.min = 0, .max = 256}},
    Setting{.key = "embeddings_flush_seconds",
            .env = "VECTORIZE_EMBEDDINGS_FLUSH_SECONDS",
            .section = "embeddings",
            .help = "Seconds between writes of the per-day request counters (also on shutdown).",
            .field = [](Config& c) -> FieldRef { return &c.embeddings_flush_seconds; },
            .range = {.min = 0.01, .max = 3600}},
};

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kText: return "text";
    case Kind::kString: return "a string";
    case Kind::kInteger: return "an integer";
    case Kind::kFloat: return "a floating-point number";
    case Kind::kBool: return "a boolean";
    case Kind::kArray: return "an array";
    case Kind::kTable: return "a table";
    case Kind::kDateTime: return "a date/time";
  }
  return "a value";
}

// `value` must be of one of `accepted` kinds; untyped text is always accepted and parsed.
Check ExpectKind(const RawValue& value, std::initializer_list<Kind> accepted,
                 std::string_view expected) {
  if (value.kind == Kind::kText || std::ranges::find(accepted, value.kind) != accepted.end()) {
    return {};
  }
  return Reject(Cat({"expected ", expected, ", got ", KindName(value.kind)}));
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Whole bounds in full ("1000000", where the shortest form would be "1e+06").
std::string BoundText(double v) {
  if (std::abs(v) < 1e15 && v == std::trunc(v)) return std::to_string(static_cast<long long>(v));
  return FormatNumber(v);
}

std::string RangeText(const Range& r) {
  const bool bounded = std::isfinite(r.max);
  if (r.min_exclusive) {
    return bounded ? "greater than " + BoundText(r.min) + " and at most " + BoundText(r.max)
                   : "greater than " + BoundText(r.min);
  }
  return bounded ? "between " + BoundText(r.min) + " and " + BoundText(r.max)
                 : "at least " + BoundText(r.min);
}

std::unexpected<std::string> RangeError(const Setting& s, std::string_view text) {
  return Reject(Cat({s.key, " must be ", RangeText(s.range), ", got ", text}));
}

Check CheckRange(const Setting& s, double v, std::string_view text) {
  const bool low = s.range.min_exclusive ? v <= s.range.min : v < s.range.min;
  if (!low && v <= s.range.max) return {};
  return RangeError(s, text);
}

Check AssignTo(const Setting& s, std::string& out, const RawValue& v) {
  if (auto ok = ExpectKind(v, {Kind::kString}, "a string"); !ok) return ok;
  std::string_view text = Trim(v.text);
  if (s.check != nullptr) {
    if (auto ok = s.check(text); !ok) return ok;
  }
  out = std::string(text);
  return {};
}

Check AssignTo(const Setting& s, bool& out, const RawValue& v) {
  if (auto ok = ExpectKind(v, {Kind::kBool}, "a boolean"); !ok) return ok;
  std::string text(Trim(v.text));
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return std::tolower(c); });
  if (text == "true" || text == "1" || text == "yes") {
    out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    out = false;
  } else {
    return Reject(Cat({"not a boolean: '", Trim(v.text), "' (use true/false, 1/0 or yes/no)"}));
  }
  return {};
}

template <typename T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <Integer T>
Check AssignTo(const Setting& s, T& out, const RawValue& v) {
  if (auto ok = ExpectKind(v, {Kind::kInteger}, "an integer"); !ok) return ok;
  std::string_view text = Trim(v.text);
  // Parsed as int64 whatever T is, so "-1" for a port reads as out of range, not as garbage.
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec == std::errc::result_out_of_range) return RangeError(s, text);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Reject(Cat({"not an integer: '", text, "'"}));
  }
  if (auto ok = CheckRange(s, static_cast<double>(parsed), text); !ok) return ok;
  if (!std::in_range<T>(parsed)) {
    return Reject(Cat({s.key, " is too large: ", text}));
  }
  out = static_cast<T>(parsed);
  return {};
}

Check AssignTo(const Setting& s, double& out, const RawValue& v) {
  if (auto ok = ExpectKind(v, {Kind::kInteger, Kind::kFloat}, "a number"); !ok) return ok;
  std::string_view text = Trim(v.text);
  double parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(parsed)) {
    return Reject(Cat({"not a number: '", text, "'"}));
  }
  if (auto ok = CheckRange(s, parsed, text); !ok) return ok;
  out = parsed;
  return {};
}

Check AssignTo(const Setting& s, std::vector<std::string>& out, const RawValue& v) {
  if (auto ok = ExpectKind(v, {Kind::kString, Kind::kArray}, "an array of strings or a string");
      !ok) {
    return ok;
  }
  if (v.kind == Kind::kArray && !v.array_of_strings) {
    return Reject("expected an array of strings, got an array with other items");
  }
  std::vector<std::string> parts = v.items;
  if (v.kind != Kind::kArray) {
    std::string_view rest = v.text;
    for (std::size_t comma; (comma = rest.find(',')) != std::string_view::npos;) {
      parts.emplace_back(rest.substr(0, comma));
      rest.remove_prefix(comma + 1);
    }
    parts.emplace_back(rest);
  }
  std::vector<std::string> result;
  for (const std::string& part : parts) {
    std::string_view item = Trim(part);
    if (!item.empty()) result.emplace_back(item);
  }
  out = std::move(result);
  return {};
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::span<const Setting> AllSettings() { return kSettings; }

const Setting* FindSettingByKey(std::string_view key) {
  auto it = std::ranges::find(kSettings, key, &Setting::key);
  return it == kSettings.end() ? nullptr : &*it;
}

const Setting* FindSettingByEnv(std::string_view env) {
  auto it = std::ranges::find(kSettings, env, &Setting::env);
  return it == kSettings.end() ? nullptr : &*it;
}

bool IsSettingTable(std::string_view prefix) {
  return std::ranges::any_of(kSettings, [&](const Setting& s) {
    return s.key.size() > prefix.size() && s.key.starts_with(prefix) && s.key[prefix.size()] == '.';
  });
}

Check Assign(const Setting& setting, Config& config, const RawValue& value) {
  return std::visit([&](auto* field) { return AssignTo(setting, *field, value); },
                    setting.field(config));
}

std::string FormatNumber(double value) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return std::string(buf.data(), end);
}

std::string FormatValue(const FieldRef& field, bool quoted) {
  struct Formatter {
    bool quoted;
    std::string operator()(const std::string* v) const { return quoted ? Quote(*v) : *v; }
    std::string operator()(const bool* v) const { return *v ? "true" : "false"; }
    std::string operator()(const std::uint16_t* v) const { return std::to_string(*v); }
    std::string operator()(const int* v) const { return std::to_string(*v); }
    std::string operator()(const std::uint64_t* v) const { return std::to_string(*v); }
    std::string operator()(const double* v) const { return FormatNumber(*v); }
    std::string operator()(const std::vector<std::string>* v) const {
      std::string out;
      for (const std::string& item : *v) {
        if (!out.empty()) out += quoted ? ", " : ",";
        out += quoted ? Quote(item) : item;
      }
      return quoted ? "[" + out + "]" : out;
    }
  };
  return std::visit(Formatter{quoted}, field);
}

}  // namespace vectorize::config::internal
