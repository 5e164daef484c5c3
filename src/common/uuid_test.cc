#include "common/uuid.h"

#include <gtest/gtest.h>

#include <set>

namespace vectorize {
namespace {

TEST(UuidTest, V7HasVersionAndVariantAndSortsByCreation) {
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewUuidV7();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    EXPECT_LT(prev, id);  // strictly increasing within a process
    EXPECT_TRUE(NormalizeUuid(id).has_value());
    seen.insert(id);
    prev = id;
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(UuidTest, NormalizeAcceptsUpperCaseAndRejectsJunk) {
  EXPECT_EQ(NormalizeUuid("123E4567-E89B-12D3-A456-426614174000"),
            "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_FALSE(NormalizeUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(NormalizeUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(NormalizeUuid(""));
  EXPECT_FALSE(NormalizeUuid("not-a-uuid"));
}

}  // namespace
}  // namespace vectorize
