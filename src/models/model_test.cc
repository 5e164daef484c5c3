#include <gtest/gtest.h>
#include "models/model.h"
namespace vectorize::models {
TEST(ModelTagTest, Placeholder) { EXPECT_TRUE(ValidateTag("a")); }
}
