#include "app/app.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "app/embeddings_wiring.h"
#include "http/http_metrics.h"
#include "http/router.h"
#include "http/routes/embeddings_routes.h"
#include "http/routes/openapi_routes.h"
#include "http/routes/system_routes.h"
#include "http/routes/tasks_routes.h"
#include "http/routes/web_routes.h"
#include "http/server.h"
#include "storage/migrations.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/sqlite/connection.h"
#include "tasks/postgres/pg_listener.h"
#include "tasks/postgres/postgres_task_store.h"
#include "tasks/sqlite/sqlite_task_store.h"
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
  std::unique_ptr<tasks::TaskStore> store;
  std::unique_ptr<tasks::Engine> engine;
  std::unique_ptr<tasks::PgListener> listener;  // PostgreSQL: wake-ups and cancels from others
  std::unique_ptr<tasks::TaskService> task_service;
  http::HttpMetrics http_metrics;
  http::Router router;
  std::unique_ptr<http::Server> server;
  // Embeddings (SPEC §3.3): the counter writes through `database`, declared first so it outlives
  // them; Stop() flushes the counter after the server stopped.
  std::unique_ptr<storage::Database> embeddings_database;
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
  p->store = std::move(*store);
  spdlog::info("database {}", config::RedactUrl(c.EffectiveDatabaseUrl()));

  if (c.run_workers) {
    p->engine = std::make_unique<tasks::Engine>(*p->store, EngineOptionsFrom(c));
    for (auto& [type, job] : p->options.jobs) p->engine->Register(type, job);
    if (IsPostgresUrl(c.EffectiveDatabaseUrl())) {
      tasks::Engine* engine = p->engine.get();
      p->listener = std::make_unique<tasks::PgListener>(
          tasks::PgListener::Options{.url = c.EffectiveDatabaseUrl()},
          tasks::PgListener::Callbacks{
              [engine](tasks::TaskType type) { engine->Wake(type); },
              [engine](const std::string& id) { engine->NotifyCancelRequested(id); }});
    }
  }
  p->task_service =
      std::make_unique<tasks::TaskService>(*p->store, p->engine.get(), c.max_attempts);
  if (p->options.serve_http) {
    http::AddTaskRoutes(p->router, *p->task_service);
    http::AddSystemRoutes(p->router, *p->task_service, p->engine.get(), p->http_metrics);
    http::AddOpenApiRoutes(p->router);
    http::AddWebRoutes(p->router);
    {
      auto database = storage::Database::Open(c.EffectiveDatabaseUrl(), 2);
      if (!database) return Fail(database.error());
      p->embeddings_database = std::move(*database);
      auto lookup = p->options.model_lookup
                        ? p->options.model_lookup
                        : ModelFolderLookup(std::filesystem::path(c.data_dir) / "models");
      p->embeddings = BuildEmbeddings(c, *p->embeddings_database, std::move(lookup));
      http::AddEmbeddingRoutes(p->router, *p->embeddings->service);
    }
    // Load balancers and orchestrators probe /health without credentials; the /docs page is
    // static and asks the browser for the key before it fetches /openapi.json.
    p->router.RequireApiKeys(
        c.api_keys, {"/health", "/docs", "/", "/dashboard", "/static/app.js", "/static/style.css"});
    http::ServerOptions so;
    so.host = c.host;
    so.port = c.port;
    so.threads = c.http_threads;
    so.max_body_bytes = c.max_request_bytes;
    so.api_prefix = c.api_prefix;
    p->server = std::make_unique<http::Server>(so, p->router, p->http_metrics);
  }
  return std::unique_ptr<App>(new App(std::move(p)));
}

Status App::Start() {
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
