#include "http/json_text.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <limits>

namespace vectorize::http {
namespace {

std::string Double(double v) {
  std::string out;
  AppendJsonDouble(out, v);
  return out;
}

TEST(JsonTextTest, DoublesAreShortestDecimalsThatReadBackTheSame) {
  EXPECT_EQ(Double(1.0), "1.0");
  EXPECT_EQ(Double(0.0), "0.0");
  EXPECT_EQ(Double(0.26), "0.26");
  EXPECT_EQ(Double(-2.5), "-2.5");
  EXPECT_EQ(Double(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(Double(1e-7), "1e-07");
  EXPECT_EQ(Double(123456789.0), "123456789.0");
  EXPECT_EQ(Double(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(Double(std::numeric_limits<double>::infinity()), "null");
  for (double v : {0.1, 0.7, 1e300, 5e-324, 2.0 / 3, 1e21}) {
    EXPECT_EQ(boost::json::parse(Double(v)).to_number<double>(), v) << Double(v);
  }
}

TEST(JsonTextTest, SerializesLikeBoostExceptForDoubles) {
  const auto v = boost::json::parse(
      R"({"a":[1,-2,18446744073709551615,true,null,"x\"\u00e9\n"],"p":1.0,"q":{"r":0.25,"":[]}})");
  EXPECT_EQ(SerializeJson(v),
            R"({"a":[1,-2,18446744073709551615,true,null,"x\"é\n"],"p":1.0,"q":{"r":0.25,"":[]}})");
  EXPECT_EQ(boost::json::parse(SerializeJson(v)), v);
}

}  // namespace
}  // namespace vectorize::http
