#include "common/time.h"

#include <gtest/gtest.h>

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
