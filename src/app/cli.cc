#include "app/cli.h"

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/tasks_cli.h"
#include "common/log.h"

namespace vectorize::app {
namespace {

struct CommonFlags {
  std::string config_file, host, data_dir, database_url, log_level, log_format;
  int port = -1;
  bool no_workers = false;
  bool no_migrate = false;
};

void AddStorageFlags(CLI::App* cmd, CommonFlags& f) {
  cmd->add_option("--config", f.config_file, "TOML config file (see docs/configuration.md)");
  cmd->add_option("--data-dir", f.data_dir, "Data directory: database, datasets, models");
  cmd->add_option("--database-url", f.database_url,
                  "sqlite:///path/file.db (default: <data dir>/vectorize.db) or "
                  "postgresql://user:pass@host:port/db");
  cmd->add_option("--log-level", f.log_level, "trace|debug|info|warn|error|off");
  cmd->add_option("--log-format", f.log_format, "text|json");
}

config::ConfigSources Sources(const CommonFlags& f) {
  config::ConfigSources s;
  if (!f.config_file.empty()) s.config_file = f.config_file;
  s.environment = config::ProcessEnvironment();
  if (!f.host.empty()) s.flags["host"] = f.host;
  if (f.port >= 0) s.flags["port"] = std::to_string(f.port);
  if (!f.data_dir.empty()) s.flags["data_dir"] = f.data_dir;
  if (!f.database_url.empty()) s.flags["database_url"] = f.database_url;
  if (!f.log_level.empty()) s.flags["log_level"] = f.log_level;
  if (!f.log_format.empty()) s.flags["log_format"] = f.log_format;
  if (f.no_workers) s.flags["run_workers"] = "false";
  if (f.no_migrate) s.flags["migrate_on_start"] = "false";
  return s;
}

int Report(const Error& e) {
  std::fprintf(stderr, "vectorize: %s\n", e.message.c_str());
  return e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kNotFound ? 2 : 1;
}

// Threads that libraries start before main (OpenBLAS's pool, loaded with libtorch) do not have
// the stop signals blocked; one of them may receive SIGTERM. This handler, run there, hands the
// signal on to the main thread, which waits for it with sigwait.
pthread_t g_main_thread;
void ForwardStopSignal(int sig) { pthread_kill(g_main_thread, sig); }

// Runs the app until SIGINT or SIGTERM, then stops it gracefully.
int RunApp(const config::Config& config, AppOptions options) {
  auto app = App::Create(config, std::move(options));
  if (!app) return Report(app.error());
  if (auto s = (*app)->Start(); !s) return Report(s.error());
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  g_main_thread = pthread_self();
  struct sigaction forward {};
  forward.sa_handler = ForwardStopSignal;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->Stop();
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv, const OptionsHook& hook) {
  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App cli{"Vectorize: a self-hosted text-embedding service"};
  cli.require_subcommand(1);
  cli.footer("Settings (TOML key / environment variable / default):\n" + config::SettingsHelp());
  CommonFlags f;

  auto* serve = cli.add_subcommand("serve", "HTTP API + embedded workers");
  AddStorageFlags(serve, f);
  serve->add_option("--host", f.host, "Address to listen on (default 127.0.0.1)");
  serve->add_option("--port", f.port, "Port (default 8000; 0 = pick a free port)")
      ->check(CLI::Range(0, 65535));
  serve->add_flag("--no-workers", f.no_workers,
                  "Serve the API only: run no jobs and never change a task by itself");
  serve->add_flag("--no-migrate", f.no_migrate, "Do not apply migrations at start-up");

  auto* worker = cli.add_subcommand(
      "worker",
      "Workers only, no HTTP. On SQLite they share the database file with `serve` on the same "
      "machine; with --database-url postgresql://… any number of them, on any machines, share "
      "the work.");
  AddStorageFlags(worker, f);
  worker->add_flag("--no-migrate", f.no_migrate, "Do not apply migrations at start-up");

  auto* migrate = cli.add_subcommand("migrate", "Create or upgrade the database schema");
  AddStorageFlags(migrate, f);

  auto* show_config = cli.add_subcommand("config", "Print the effective settings (secrets hidden)");
  AddStorageFlags(show_config, f);

  // A client of the HTTP API: loads no server config (see docs/cli.md).
  vectorize::cli::TasksCommand tasks(cli);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return tasks.parsed() ? tasks.ExitForParseError(cli, e) : cli.exit(e);
  }
  if (tasks.parsed()) return tasks.Run();

  auto config = config::LoadConfig(Sources(f));
  if (!config) {
    std::fprintf(stderr, "vectorize: %s\n", config.error().message.c_str());
    return 2;
  }
  InitLogging(config->log_level,
              config->log_format == "json" ? LogFormat::kJson : LogFormat::kText);

  if (*show_config) {
    std::cout << config::DescribeConfig(*config);
    return 0;
  }
  if (*migrate) {
    auto version = Migrate(*config);
    if (!version) return Report(version.error());
    std::printf("schema at version %d (%s)\n", *version,
                config::RedactUrl(config->EffectiveDatabaseUrl()).c_str());
    return 0;
  }
  AppOptions options;
  options.serve_http = serve->parsed();
  if (*worker) config->run_workers = true;
  if (hook) hook(options);
  return RunApp(*config, std::move(options));
}

}  // namespace vectorize::app
