#include "common/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

namespace vectorize {
namespace {

TEST(TimeTest, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339(1705314600123456), "2024-01-15T10:30:00.123456Z");
}

TEST(TimeTest, ParsesWhatItFormats) {
  for (Micros t : {Micros{0}, Micros{1705314600123456}, Micros{951782400000001}}) {
    auto parsed = ParseRfc3339(FormatRfc3339(t));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, t);
  }
}

TEST(TimeTest, ParsesOffsetsAndShortFractions) {
  EXPECT_EQ(ParseRfc3339("2024-01-15T10:30:00Z"), 1705314600000000);
  EXPECT_EQ(ParseRfc3339("2024-01-15T12:30:00.5+02:00"), 1705314600500000);
}

TEST(TimeTest, RejectsMalformed) {
  EXPECT_FALSE(ParseRfc3339("2024-01-15"));
  EXPECT_FALSE(ParseRfc3339("2024-13-15T10:30:00Z"));
  EXPECT_FALSE(ParseRfc3339("2024-01-15T10:30:00"));
  EXPECT_FALSE(ParseRfc3339("2024-01-15T10:30:00Zjunk"));
}

}  // namespace
}  // namespace vectorize

namespace vectorize {
namespace {

TEST(TimeTest, FormatAgreesWithGmtimeAcrossCenturies) {
  // Leap days, century rules, year ends: compare against the C library.
  for (Micros secs = -2208988800LL; secs < 4102444800LL; secs += 86399 * 37 + 12345) {
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[40];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000042Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(FormatRfc3339(secs * kMicrosPerSecond + 42), want) << secs;
  }
  EXPECT_EQ(FormatRfc3339(951782400LL * kMicrosPerSecond), "2000-02-29T00:00:00.000000Z");
}

}  // namespace
}  // namespace vectorize
