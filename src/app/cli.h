#pragma once
// Command-line front end shared by `vectorize` and test executables that embed the same
// service with extra jobs: parses subcommands and flags into a Config and runs the process.

#include <functional>

#include "app/app.h"

namespace vectorize::app {

// Hook for executables that add jobs (tests): called with the options before the app is built.
using OptionsHook = std::function<void(AppOptions&)>;

// Parses argv, loads config (defaults → TOML → env → flags), runs the chosen subcommand until
// SIGINT/SIGTERM. Returns the process exit code: 0 ok, 1 runtime error, 2 usage/config error.
int RunCli(int argc, char** argv, const OptionsHook& hook = {});

}  // namespace vectorize::app
