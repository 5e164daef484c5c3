#pragma once
// Wall-clock time as integer microseconds since the Unix epoch (UTC), and its RFC 3339 form.
// Thread safety: all functions are pure or read the system clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vectorize {

using Micros = std::int64_t;

inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerHour = 3600 * kMicrosPerSecond;

Micros NowMicros();

// "2024-01-15T10:30:00.123456Z": always UTC, always six fractional digits so that the text form
// sorts like the number.
std::string FormatRfc3339(Micros t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)". nullopt when malformed.
std::optional<Micros> ParseRfc3339(std::string_view s);

}  // namespace vectorize
