#include <gtest/gtest.h>

#include <set>

#include "datasets/formats/formats.h"

namespace vectorize::datasets::formats {
namespace {

std::vector<std::string> Cols(std::initializer_list<const char*> names) {
  return {names.begin(), names.end()};
}

TEST(HubSchema, ThirtyFourDistinctSchemas) {
  const auto& schemas = HubSchemas();
  EXPECT_EQ(schemas.size(), 34u);
  std::set<std::vector<std::string_view>> distinct(schemas.begin(), schemas.end());
  EXPECT_EQ(distinct.size(), 34u);
}

TEST(HubSchema, EverySchemaMapsOnItsOwn) {
  for (const auto& schema : HubSchemas()) {
    std::vector<std::string> cols(schema.begin(), schema.end());
    auto m = MapHubColumns(cols);
    ASSERT_TRUE(m.has_value()) << cols[0];
    size_t q = schema.size() == 4 ? 1 : 0;  // system prompt is not the question
    EXPECT_EQ(m->question, schema[q]);
    EXPECT_EQ(m->positive, schema[q + 1]);
    if (schema.size() - q == 3) {
      EXPECT_EQ(m->negative, std::string(schema[q + 2]));
    } else {
      EXPECT_FALSE(m->negative.has_value()) << "two-column schemas are duples";
    }
  }
}

TEST(HubSchema, ExamplesFromTheSpec) {
  auto pcr = MapHubColumns(Cols({"prompt", "chosen", "rejected", "id"}));
  ASSERT_TRUE(pcr);
  EXPECT_EQ(*pcr, (ColumnMapping{"prompt", "chosen", std::string("rejected")}));
  auto qa = MapHubColumns(Cols({"question", "answer"}));
  ASSERT_TRUE(qa);
  EXPECT_EQ(*qa, (ColumnMapping{"question", "answer", std::nullopt}));
  auto ha = MapHubColumns(Cols({"Human", "Assistant"}));
  ASSERT_TRUE(ha);
  EXPECT_EQ(*ha, (ColumnMapping{"Human", "Assistant", std::nullopt}));
  auto sys = MapHubColumns(Cols({"system", "user", "chosen", "rejected"}));
  ASSERT_TRUE(sys);
  EXPECT_EQ(*sys, (ColumnMapping{"user", "chosen", std::string("rejected")}));
}

TEST(HubSchema, TriplesWinOverDuples) {
  // human/assistant is listed first but human/chosen/rejected keeps the negative.
  auto m = MapHubColumns(Cols({"human", "assistant", "chosen", "rejected"}));
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (ColumnMapping{"human", "chosen", std::string("rejected")}));
  auto p = MapHubColumns(Cols({"prompt", "chosen"}));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->negative.has_value());
}

TEST(HubSchema, NoMatch) {
  EXPECT_FALSE(MapHubColumns(Cols({"text"})).has_value());
  EXPECT_FALSE(MapHubColumns(Cols({"prompt", "rejected"})).has_value());
  EXPECT_FALSE(MapHubColumns({}).has_value());
}

}  // namespace
}  // namespace vectorize::datasets::formats
