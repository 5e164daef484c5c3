#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace vectorize {

void InitLogging(std::string_view level, LogFormat format) {
  spdlog::drop("vectorize");
  auto logger = spdlog::stderr_color_mt("vectorize");
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace vectorize
