#pragma once
// One typed Config for the whole service. Sources, lowest to highest precedence:
// built-in defaults → TOML file (--config) → environment (VECTORIZE_*, HF_*, GITHUB_*) → flags.
// Unknown TOML keys and unknown VECTORIZE_* variables are errors. Secrets are redacted when the
// config is printed. Every setting is described once, in settings.cc; docs/configuration.md is
// the user-facing reference. Thread safety: a loaded Config is an immutable value; the free
// functions are thread-safe (ProcessEnvironment reads `environ`, like getenv).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace vectorize::config {

// Concurrency of the embedded workers, per task type. 0 = this process runs no jobs of that type.
struct WorkerConcurrency {
  int model_upload = 4;    // network-bound downloads
  int dataset_upload = 4;  // parsing, mostly I/O
  int training = 1;        // CPU-heavy, one at a time on a 2-core box
  int evaluation = 1;
  int synthesis = 2;
};

inline constexpr const char* kDefaultDatasetsServer = "https://datasets-server.huggingface.co";

struct Config {
  // --- server
  std::string host = "127.0.0.1";      // VECTORIZE_HOST
  std::uint16_t port = 8000;           // VECTORIZE_PORT; 0 = pick a free port
  std::string api_prefix = "/v1/api";  // VECTORIZE_API_PREFIX; routes answer at / and here too
  int http_threads = 2;                // VECTORIZE_HTTP_THREADS
  int http_blocking_threads = 64;      // VECTORIZE_HTTP_BLOCKING_THREADS
  int http_max_waiting = 1024;         // VECTORIZE_HTTP_MAX_WAITING
  std::uint64_t max_request_bytes = 1 << 20;      // VECTORIZE_MAX_REQUEST_BYTES (JSON bodies)
  std::uint64_t max_upload_bytes = 512ull << 20;  // VECTORIZE_MAX_UPLOAD_BYTES (files)
  std::vector<std::string> api_keys;  // VECTORIZE_API_KEYS, comma-separated; empty = no auth

  // --- storage
  std::string data_dir = "./data";  // VECTORIZE_DATA_DIR: database, datasets, models
  // VECTORIZE_DATABASE_URL: sqlite://PATH, postgresql://... or postgres://...; empty = SQLite
  // under data_dir (see EffectiveDatabaseUrl). PostgreSQL lets workers on other machines share it.
  std::string database_url;
  bool migrate_on_start = true;  // VECTORIZE_MIGRATE_ON_START

  // --- task engine
  // VECTORIZE_RUN_WORKERS; false with `serve --no-workers`: API only, never changes a task
  bool run_workers = true;
  WorkerConcurrency concurrency;  // VECTORIZE_CONCURRENCY_<TYPE>
  double lease_seconds = 30;      // VECTORIZE_LEASE_SECONDS: a running task's lease
  // VECTORIZE_HEARTBEAT_SECONDS: lease renewal interval; must be < lease_seconds. Short leases
  // recover crashed workers sooner; the heartbeat must then be shorter still (more writes).
  double heartbeat_seconds = 10;
  double rescue_interval_seconds = 5;  // VECTORIZE_RESCUE_INTERVAL_SECONDS
  int max_attempts = 3;                // VECTORIZE_MAX_ATTEMPTS (runs before "worker lost"/F)
  double retry_base_seconds = 2;       // VECTORIZE_RETRY_BASE_SECONDS: backoff base (×2^n, jitter)
  double retry_max_seconds = 300;      // VECTORIZE_RETRY_MAX_SECONDS: backoff cap

  // --- remote services
  std::string hf_endpoint = "https://huggingface.co";     // HF_ENDPOINT
  std::string hf_token;                                   // HF_TOKEN (secret)
  std::string github_api_url = "https://api.github.com";  // GITHUB_API_URL
  std::string github_token;                               // GITHUB_TOKEN (secret)
  // VECTORIZE_HF_DATASETS_SERVER: the Hub's dataset-viewer API (/splits, /rows), through which
  // Hub imports read Parquet-only datasets (docs/datasets.md). Empty = kDefaultDatasetsServer.
  std::string hf_datasets_server;

  // --- logs
  std::string log_level = "info";   // VECTORIZE_LOG_LEVEL: trace|debug|info|warn|error|off
  std::string log_format = "text";  // VECTORIZE_LOG_FORMAT: text|json

  // --- task events
  // VECTORIZE_EVENTS_HEARTBEAT_SECONDS: heartbeat comment interval of GET /tasks/events.
  double events_heartbeat_seconds = 15;
  // --- embeddings (POST /embeddings; SPEC §3.3)
  // VECTORIZE_EMBEDDINGS_MAX_BATCH: sequences per forward pass. Larger batches amortise the
  // per-call cost; smaller ones bound the latency a request can add to another.
  int embeddings_max_batch = 32;
  // VECTORIZE_EMBEDDINGS_BATCH_WAIT_MS: how long the batcher waits for more requests once one
  // arrived (0 = run at once). A few ms lets concurrent single requests share a forward pass.
  double embeddings_batch_wait_ms = 2;
  int embeddings_queue_size =
      1024;  // VECTORIZE_EMBEDDINGS_QUEUE_SIZE: queued sequences per model; full → 429
  int embeddings_max_inputs =
      2048;  // VECTORIZE_EMBEDDINGS_MAX_INPUTS: inputs per request; more → 413
  // VECTORIZE_EMBEDDINGS_MAX_TOKENS: tokens per request after truncation; more → 413.
  int embeddings_max_tokens = 300000;
  int embeddings_cached_models = 2;  // VECTORIZE_EMBEDDINGS_CACHED_MODELS: loaded models kept (LRU)
  // VECTORIZE_INFERENCE_THREADS: single-threaded parts an embedding batch is spread over
  // (inference/batch_plan.h); 0 = one per CPU in the process's affinity mask.
  int inference_threads = 0;
  // VECTORIZE_EMBEDDINGS_FLUSH_SECONDS: how often request counts are written to the
  // database (also on shutdown); counts are kept in memory in between.
  double embeddings_flush_seconds = 5;

  // The effective database URL: database_url when set, else "sqlite://" + data_dir (trailing
  // '/' removed) + "/vectorize.db". The text after "sqlite://" is the file path as given, so an
  // absolute data_dir gives three slashes ("/var/lib/v" → "sqlite:///var/lib/v/vectorize.db")
  // and a relative one stays relative to the working directory ("./data" →
  // "sqlite://./data/vectorize.db").
  [[nodiscard]] std::string EffectiveDatabaseUrl() const;
};

struct ConfigSources {
  std::optional<std::string> config_file;          // TOML path, from --config
  std::map<std::string, std::string> environment;  // usually the process environment
  // Flag values keyed by their TOML key name (e.g. "port", "data_dir", "database_url",
  // "concurrency.training"), only for flags the user actually gave; parsed like environment
  // text. `--no-workers` is {"run_workers", "false"}. An unknown key is invalid_argument.
  std::map<std::string, std::string> flags;
};

// Applies defaults, then the TOML file, the environment and the flags, then checks the rules
// that span two settings (heartbeat_seconds < lease_seconds, retry_max_seconds >=
// retry_base_seconds).
// - TOML keys are the field names; WorkerConcurrency is the [concurrency] table. TOML values are
//   typed (port = "80" is an error); seconds accept integers and floats; api_keys accepts an
//   array of strings or a comma-separated string.
// - Environment: VECTORIZE_<KEY> (dots as '_': VECTORIZE_CONCURRENCY_TRAINING), except
//   HF_ENDPOINT, HF_TOKEN, GITHUB_API_URL, GITHUB_TOKEN. An empty value counts as unset. Any
//   other VECTORIZE_* variable is an error, except the prefixes VECTORIZE_TEST_* and
//   VECTORIZE_PG_*, reserved for tests and CI. Variables without the prefix are ignored.
// - Environment and flag text: booleans true/false/1/0/yes/no (any case); lists comma-separated.
// Errors: invalid_argument naming the source and key ("VECTORIZE_PORT: not an integer: 'abc'",
// "config file x.toml: unknown key 'prot' (did you mean 'port'?)", "config file x.toml: line 3,
// column 7: ..." for TOML syntax); not_found when the config file does not exist. Values that
// may hold a password are echoed redacted.
[[nodiscard]] Result<Config> LoadConfig(const ConfigSources& sources);

// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

// Human-readable dump: one TOML-style `key = value` line per setting, in table order
// (concurrency as `concurrency.training = 1`). Secrets (api_keys, hf_token, github_token) print
// as "***" when set; URL passwords are redacted with RedactUrl; an empty database_url is
// followed by a comment giving the effective URL.
std::string DescribeConfig(const Config& config);

// Multi-line help text documenting every setting: TOML key, env var, default, meaning (and
// the flag, if any), grouped by section, no line wider than 100 columns.
std::string SettingsHelp();

// Redacts the password of a URL ("postgresql://u:***@h/db"), including a libpq-style
// "password=" query parameter. URLs without a password come back unchanged. When unsure where
// the password ends it hides more, never less.
std::string RedactUrl(const std::string& url);

}  // namespace vectorize::config
