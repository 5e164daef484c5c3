#include "common/utf8.h"

#include <gtest/gtest.h>

namespace vectorize {
namespace {

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80"));  // ü € 😀
  EXPECT_FALSE(IsValidUtf8("\xFF\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

TEST(Utf8Test, LengthCountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80"), 3u);  // ü € 😀
}

TEST(Utf8Test, SanitizeReplacesAndCuts) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\uFFFD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC3\xBC\xC3\xBC\xC3\xBC", 2), "\xC3\xBC\xC3\xBC\u2026");
  EXPECT_EQ(SanitizeUtf8("ok", 2), "ok");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xE2\x82\xFF\xF0\x9F")));
}

}  // namespace
}  // namespace vectorize
