#include "app/app.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "app/embeddings_wiring.h"
#include "datasets/dataset_service.h"
#include "datasets/dataset_store.h"
#include "datasets/hub_import.h"
#include "http/http_metrics.h"
#include "http/router.h"
#include "http/routes/datasets_routes.h"
#include "http/routes/embeddings_routes.h"
#include "http/routes/models_routes.h"
#include "http/routes/openapi_routes.h"
#include "http/routes/system_routes.h"
#include "http/routes/task_events_routes.h"
#include "http/routes/tasks_routes.h"
#include "http/routes/uploads_routes.h"
#include "http/routes/web_routes.h"
#include "http/server.h"
#include "models/model_registry.h"
#include "models/model_service.h"
#include "models/subprocess_check.h"
#include "models/upload_job.h"
#include "remote/github_client.h"
#include "remote/http_client.h"
#include "remote/hub_client.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/sqlite/connection.h"
#include "tasks/postgres/pg_event_forwarder.h"
#include "tasks/postgres/pg_listener.h"
#include "tasks/postgres/postgres_task_store.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_events.h"
#include "tasks/task_service.h"

namespace vectorize::app {

namespace {

using std::chrono::milliseconds;

milliseconds Ms(double seconds) { return milliseconds(static_cast<std::int64_t>(seconds * 1000)); }

bool IsPostgresUrl(const std::string& url) {
  return url.starts_with("postgresql:") || url.starts_with("postgres:");
}

Result<std::string> SqlitePath(const config::Config& config) {
  const std::string url = config.EffectiveDatabaseUrl();
  auto path = storage::sqlite::SqlitePathFromUrl(url);
  if (!path) {
    return Fail(Error::InvalidArgument("unsupported database URL: " + config::RedactUrl(url)));
  }
  std::error_code ec;
  const auto dir = std::filesystem::path(*path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(
        Error::Unavailable("cannot create directory " + dir.string() + ": " + ec.message()));
  }
  return *path;
}

// The task store the database URL selects: SQLite (embedded default) or PostgreSQL.
Result<std::unique_ptr<tasks::TaskStore>> OpenTaskStore(const config::Config& c) {
  const std::string url = c.EffectiveDatabaseUrl();
  if (IsPostgresUrl(url)) {
    tasks::PostgresTaskStore::Options o;
    o.url = url;
    o.migrate = c.migrate_on_start;
    auto store = tasks::PostgresTaskStore::Open(std::move(o));
    if (!store) return Fail(store.error());
    return std::unique_ptr<tasks::TaskStore>(std::move(*store));
  }
  auto path = SqlitePath(c);
  if (!path) return Fail(path.error());
  auto store = tasks::SqliteTaskStore::Open({*path, 8, c.migrate_on_start});
  if (!store) return Fail(store.error());
  return std::unique_ptr<tasks::TaskStore>(std::move(*store));
}

tasks::EngineOptions EngineOptionsFrom(const config::Config& c) {
  tasks::EngineOptions o;
  o.concurrency = {{tasks::TaskType::kModelUpload, c.concurrency.model_upload},
                   {tasks::TaskType::kDatasetUpload, c.concurrency.dataset_upload},
                   {tasks::TaskType::kTraining, c.concurrency.training},
                   {tasks::TaskType::kEvaluation, c.concurrency.evaluation},
                   {tasks::TaskType::kSynthesis, c.concurrency.synthesis}};
  o.lease = Ms(c.lease_seconds);
  o.heartbeat = Ms(c.heartbeat_seconds);
  o.rescue_interval = Ms(c.rescue_interval_seconds);
  o.retry_base = Ms(c.retry_base_seconds);
  o.retry_max = Ms(c.retry_max_seconds);
  o.max_attempts = c.max_attempts;
  return o;
}

}  // namespace

struct App::Parts {
  config::Config config;
  AppOptions options;
  // Task change events (docs/tasks.md "Events"): the log event streams read; on PostgreSQL the
  // forwarder that numbers and broadcasts this process's changes (the listener feeds the log).
  std::unique_ptr<tasks::TaskEventLog> event_log;
  std::unique_ptr<tasks::PgEventForwarder> event_forwarder;
  std::unique_ptr<tasks::TaskStore> base_store;
  // What everything else uses: base_store, reporting each committed change as an event.
  std::unique_ptr<tasks::TaskStore> store;
  std::unique_ptr<tasks::Engine> engine;
  std::unique_ptr<tasks::PgListener> listener;  // PostgreSQL: wake-ups and cancels from others
  std::unique_ptr<tasks::TaskService> task_service;
  std::unique_ptr<http::TaskEventStream> task_events;
  // Registries beside the task tables (datasets, models…), over the same database.
  std::unique_ptr<storage::Database> database;
  std::unique_ptr<datasets::DatasetStore> dataset_store;
  std::unique_ptr<datasets::DatasetService> dataset_service;
  std::unique_ptr<datasets::HubImporter> hub_importer;
  // Models and uploads (SPEC §3.2).
  std::unique_ptr<remote::HttpClient> remote_http;
  std::unique_ptr<remote::HubClient> hub;
  std::unique_ptr<remote::GitHubClient> github;
  std::unique_ptr<models::ModelRegistry> model_registry;
  std::unique_ptr<models::ModelService> model_service;
  http::HttpMetrics http_metrics;
  http::Router router;
  std::unique_ptr<http::Server> server;
  // Embeddings (SPEC §3.3): the counter writes through `database`, declared first so it outlives
  // them; Stop() flushes the counter after the server stopped.
  std::unique_ptr<EmbeddingsParts> embeddings;
};

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
App::~App() { Stop(); }

Result<std::unique_ptr<App>> App::Create(config::Config config, AppOptions options) {
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->options = std::move(options);
  const auto& c = p->config;
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec)
    return Fail(Error::Unavailable("cannot create data dir " + c.data_dir + ": " + ec.message()));

  auto store = OpenTaskStore(c);
  if (!store) return Fail(store.error());
  p->base_store = std::move(*store);
  const bool postgres = IsPostgresUrl(c.EffectiveDatabaseUrl());
  // SQLite: numbered here, from the start time in µs, so numbers keep growing across restarts.
  // PostgreSQL: numbered by the database; this log only holds what the listener delivers.
  p->event_log = std::make_unique<tasks::TaskEventLog>(
      16'384, postgres ? 0 : static_cast<std::uint64_t>(NowMicros()));
  tasks::TaskChangeSink* sink = p->event_log.get();
  if (postgres) {
    p->event_forwarder = std::make_unique<tasks::PgEventForwarder>(c.EffectiveDatabaseUrl());
    sink = p->event_forwarder.get();
  }
  p->store = std::make_unique<tasks::ObservedTaskStore>(*p->base_store, *sink);
  spdlog::info("database {}", config::RedactUrl(c.EffectiveDatabaseUrl()));

  if (c.run_workers) {
    p->engine = std::make_unique<tasks::Engine>(*p->store, EngineOptionsFrom(c));
    for (auto& [type, job] : p->options.jobs) p->engine->Register(type, job);
  }
  if (postgres && (p->engine || p->options.serve_http)) {
    tasks::Engine* engine = p->engine.get();
    tasks::TaskEventLog* log = p->event_log.get();
    tasks::PgListener::Callbacks callbacks;
    if (engine) {
      callbacks.on_work = [engine](tasks::TaskType type) { engine->Wake(type); };
      callbacks.on_cancel = [engine](const std::string& id) { engine->NotifyCancelRequested(id); };
    }
    if (p->options.serve_http) {
      callbacks.on_events = [log](const std::string& payload) {
        if (payload.empty()) return log->MarkGap();
        std::uint64_t first = 0;
        std::vector<std::string> ids;
        if (tasks::PgEventForwarder::ParsePayload(payload, first, ids)) {
          log->AppendNumbered(first, ids);
        }
      };
    }
    tasks::PgListener::Options lo{.url = c.EffectiveDatabaseUrl()};
    if (!engine) lo.application_name = "vectorize-event-listener";
    p->listener = std::make_unique<tasks::PgListener>(lo, std::move(callbacks));
  }
  p->task_service =
      std::make_unique<tasks::TaskService>(*p->store, p->engine.get(), c.max_attempts);

  // Datasets (SPEC §3.1). The task store has applied the migrations by now.
  auto database = storage::Database::Open(c.EffectiveDatabaseUrl(), 4);
  if (!database) return Fail(database.error());
  p->database = std::move(*database);
  p->dataset_store = std::make_unique<datasets::DatasetStore>(*p->database);
  {
    datasets::DatasetServiceOptions o;
    o.data_dir = c.data_dir;
    o.limits.max_file_bytes = c.max_upload_bytes;
    p->dataset_service =
        std::make_unique<datasets::DatasetService>(*p->dataset_store, *p->store, std::move(o));
    if (auto s = p->dataset_service->Init(); !s) return Fail(s.error());
  }
  // Models and uploads: the registry on the same database, the Hub and GitHub clients, the
  // model_upload job (unless the caller brought its own, as the testkit does).
  p->remote_http = std::make_unique<remote::HttpClient>();
  p->hub = std::make_unique<remote::HubClient>(*p->remote_http, c.hf_endpoint, c.hf_token);
  p->github =
      std::make_unique<remote::GitHubClient>(*p->remote_http, c.github_api_url, c.github_token);
  p->model_registry = std::make_unique<models::ModelRegistry>(*p->database);
  models::ModelServiceOptions mo;
  mo.data_dir = c.data_dir;
  mo.max_model_bytes = std::max<std::uint64_t>(c.max_upload_bytes, 8ull << 30);
  // A deleted model leaves the inference cache at once (embeddings are built further down).
  mo.evict = [parts = p.get()](const std::string& model_id) {
    if (parts->embeddings) parts->embeddings->service->Evict(model_id);
  };
  // A model is registered only after it loads (SPEC §3.2): a real forward pass on libtorch, in
  // a child process (vectorize-model-check beside this binary) so the server never loads torch
  // for an upload.
  {
    std::error_code self_ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", self_ec);
    const auto checker = self.parent_path() / "vectorize-model-check";
    if (!self_ec && std::filesystem::exists(checker, self_ec)) {
      mo.load_check = models::SubprocessLoadCheck(checker.string());
    } else {
      spdlog::warn("{} not found: uploaded models are checked without loading them",
                   checker.string());
    }
  }
  p->model_service = std::make_unique<models::ModelService>(
      *p->model_registry, *p->database, *p->store, p->engine.get(), *p->hub, *p->github, mo);
  if (p->engine) {
    bool custom = false;
    for (auto& [type, job] : p->options.jobs) custom |= type == tasks::TaskType::kModelUpload;
    if (!custom)
      p->engine->Register(tasks::TaskType::kModelUpload,
                          std::make_shared<models::ModelUploadJob>(*p->model_service));
    p->model_service->SweepWorkDirs();
  }
  // Hub dataset imports: the dataset_upload job (unless the caller brought its own).
  p->hub_importer = std::make_unique<datasets::HubImporter>(
      *p->dataset_service, *p->store, p->engine.get(), *p->hub, *p->remote_http,
      datasets::HubImportOptions{.datasets_server = c.hf_datasets_server.empty()
                                                        ? config::kDefaultDatasetsServer
                                                        : c.hf_datasets_server,
                                 .token = c.hf_token});
  if (p->engine) {
    bool custom = false;
    for (auto& [type, job] : p->options.jobs) custom |= type == tasks::TaskType::kDatasetUpload;
    if (!custom) {
      p->engine->Register(tasks::TaskType::kDatasetUpload,
                          std::make_shared<datasets::HubImportJob>(*p->hub_importer));
    }
  }
  if (p->options.serve_http) {
    http::AddTaskRoutes(p->router, *p->task_service);
    http::AddOpenApiRoutes(p->router);
    http::AddWebRoutes(p->router);
    http::TaskEventStream::Options eo;
    eo.heartbeat = Ms(c.events_heartbeat_seconds);
    p->task_events = std::make_unique<http::TaskEventStream>(*p->event_log, *p->store, eo);
    http::AddTaskEventRoutes(p->router, *p->task_events);
    p->router.AllowApiKeyOutsideHeaders({"/tasks/events"});
    http::AddDatasetRoutes(p->router, *p->dataset_service, p->hub_importer.get());
    http::AddModelRoutes(p->router, *p->model_service);
    {
      const auto upload_tmp = std::filesystem::path(c.data_dir) / "tmp" / "uploads";
      std::filesystem::create_directories(upload_tmp, ec);
      http::AddUploadRoutes(p->router, *p->model_service, upload_tmp.string());
    }
    {
      // Models come from the registry (ready ones only); a delete evicts the loaded copy.
      p->embeddings =
          BuildEmbeddings(c, *p->database, RegistryModelLookup(*p->model_registry, c.data_dir));
      http::AddEmbeddingRoutes(p->router, *p->embeddings->service);
    }
    http::AddSystemRoutes(p->router, *p->task_service, p->engine.get(), p->http_metrics,
                          {[service = p->embeddings->service.get()](std::string& out) {
                            http::RenderEmbeddingMetrics(*service, out);
                          }});
    // Load balancers and orchestrators probe /health without credentials; the /docs page is
    // static and asks the browser for the key before it fetches /openapi.json.
    p->router.RequireApiKeys(
        c.api_keys, {"/health", "/docs", "/", "/dashboard", "/static/app.js", "/static/style.css"});
    http::ServerOptions so;
    so.host = c.host;
    so.port = c.port;
    so.threads = c.http_threads;
    so.blocking_threads = c.http_blocking_threads;
    so.max_blocking_waiting = c.http_max_waiting;
    so.max_body_bytes = c.max_request_bytes;
    so.api_prefix = c.api_prefix;
    so.upload_dir = (std::filesystem::path(c.data_dir) / "tmp" / "uploads").string();
    so.max_upload_bytes = c.max_upload_bytes;
    p->server = std::make_unique<http::Server>(so, p->router, p->http_metrics);
  }
  return std::unique_ptr<App>(new App(std::move(p)));
}

Status App::Start() {
  if (parts_->event_forwarder) parts_->event_forwarder->Start();
  if (parts_->task_events) parts_->task_events->Start();
  if (parts_->embeddings) parts_->embeddings->counter->Start();
  if (parts_->engine) parts_->engine->Start();
  if (parts_->listener) parts_->listener->Start();
  if (parts_->server) {
    if (auto s = parts_->server->Start(); !s) {
      if (parts_->listener) parts_->listener->Stop();
      if (parts_->engine) parts_->engine->Stop();
      return s;
    }
    // The one line scripts and tests wait for (SPEC §1).
    std::printf("listening on http://%s:%u\n", parts_->config.host.c_str(),
                static_cast<unsigned>(parts_->server->port()));
    std::fflush(stdout);
  }
  return {};
}

void App::Stop() {
  if (!parts_) return;
  // Engine first: it stops claiming at once, then lets running jobs reach a safe point; the API
  // keeps answering meanwhile (a cancel still reaches a job that is winding down).
  if (parts_->listener) parts_->listener->Stop();
  if (parts_->engine) parts_->engine->Stop();
  if (parts_->event_forwarder) parts_->event_forwarder->Stop();  // the engine's last changes
  if (parts_->task_events) parts_->task_events->Stop();          // ends the event streams
  if (parts_->server) parts_->server->Stop();
  if (parts_->embeddings) parts_->embeddings->counter->Stop();  // flushes the last counts
}

std::uint16_t App::port() const { return parts_->server ? parts_->server->port() : 0; }

Result<int> Migrate(const config::Config& config) {
  const std::string url = config.EffectiveDatabaseUrl();
  if (IsPostgresUrl(url)) {
    auto conn = storage::postgres::Connection::Open({url});
    if (!conn) return Fail(conn.error());
    if (auto s = storage::postgres::Migrate(**conn); !s) return Fail(s.error());
    return storage::postgres::SchemaVersion(**conn);
  }
  auto path = SqlitePath(config);
  if (!path) return Fail(path.error());
  auto conn = storage::sqlite::Connection::Open(*path);
  if (!conn) return Fail(conn.error());
  if (auto s = storage::MigrateSqlite(**conn); !s) return Fail(s.error());
  return storage::SqliteSchemaVersion(**conn);
}

}  // namespace vectorize::app
