#pragma once
// Logging facade: one call at start-up picks level and format; modules then log through spdlog's
// default logger (spdlog::info etc.), which is thread-safe. Every line about a task carries
// "task=<id>".

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace vectorize {

enum class LogFormat { kText, kJson };

// level: trace|debug|info|warn|error|off. Logs go to stderr so stdout stays for the
// "listening on" line and CLI output.
void InitLogging(std::string_view level, LogFormat format);

}  // namespace vectorize
