#pragma once
// The composition root: builds every object of a Vectorize process from its Config and owns
// their lifetimes (store → engine → services → router → HTTP server). The only place that knows
// all modules. Thread safety: Create/Start/Stop from one thread.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "common/error.h"
#include "config/config.h"
#include "tasks/engine.h"

namespace vectorize::app {

struct AppOptions {
  bool serve_http = true;  // `serve`: HTTP + workers; `worker`: workers only
  // Jobs to run, per task type. Feature modules register theirs here as they arrive; tests add
  // scripted jobs through the same door.
  std::vector<std::pair<tasks::TaskType, std::shared_ptr<tasks::Job>>> jobs;
};

class App {
 public:
  // Opens (and, unless disabled, migrates) the database and wires everything. Errors:
  // unavailable (database unreachable, data dir not writable), invalid_argument (bad URL),
  // failed_precondition (schema too old/new).
  [[nodiscard]] static Result<std::unique_ptr<App>> Create(config::Config config,
                                                           AppOptions options);
  ~App();

  // Starts the engine and the HTTP server; prints "listening on http://HOST:PORT" when serving.
  [[nodiscard]] Status Start();
  // Graceful: stop accepting requests, stop the engine (running tasks reach a safe point).
  void Stop();
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Parts;
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// `vectorize migrate`: applies pending migrations and reports the schema version.
[[nodiscard]] Result<int> Migrate(const config::Config& config);

}  // namespace vectorize::app
