#include "models/model.h"

#include <gtest/gtest.h>
namespace vectorize::models {
TEST(ModelTagTest, Placeholder) { EXPECT_TRUE(ValidateTag("a")); }
}  // namespace vectorize::models
