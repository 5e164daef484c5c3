#include "http/routes/embeddings_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstring>

namespace vectorize::http {
namespace {

namespace json = boost::json;
using Loc = std::vector<std::string>;

// The loc of every field error of a refused body.
std::vector<Loc> Locs(std::string_view body) {
  auto r = ParseEmbeddingsRequest(body);
  EXPECT_FALSE(r.has_value()) << body;
  std::vector<Loc> out;
  if (r) return out;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  for (const auto& f : r.error().fields) out.push_back(f.loc);
  return out;
}

TEST(EmbeddingsJsonTest, AcceptsTheFourInputShapes) {
  auto s = ParseEmbeddingsRequest(R"({"input":"héllo","model":"m"})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->request.model, "m");
  EXPECT_FALSE(s->request.input.tokens);
  EXPECT_EQ(s->request.input.texts, (std::vector<std::string>{"héllo"}));
  EXPECT_EQ(s->format, EncodingFormat::kFloat);
  EXPECT_FALSE(s->request.dimensions);

  auto l = ParseEmbeddingsRequest(
      R"({"input":["a","b"],"model":"m","encoding_format":"base64","dimensions":8,"user":"u"})");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->request.input.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(l->format, EncodingFormat::kBase64);
  EXPECT_EQ(l->request.dimensions, 8);

  auto ids = ParseEmbeddingsRequest(R"({"input":[7592,2088],"model":"m","dimensions":4.0})");
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->request.input.tokens);
  EXPECT_FALSE(ids->request.input.nested);
  EXPECT_EQ(ids->request.input.token_ids, (std::vector<std::vector<std::int32_t>>{{7592, 2088}}));
  EXPECT_EQ(ids->request.dimensions, 4);

  auto nested = ParseEmbeddingsRequest(
      R"({"input":[[1,2],[3]],"model":"m","encoding_format":null,"dimensions":null,"user":null,)"
      R"("extra":"ignored"})");
  ASSERT_TRUE(nested);
  EXPECT_TRUE(nested->request.input.nested);
  EXPECT_EQ(nested->request.input.token_ids, (std::vector<std::vector<std::int32_t>>{{1, 2}, {3}}));
  EXPECT_EQ(nested->request.input.size(), 2u);
}

TEST(EmbeddingsJsonTest, RefusesMalformedBodiesWithLoc) {
  EXPECT_EQ(Locs("{"), (std::vector<Loc>{{"body"}}));
  EXPECT_EQ(Locs("[1]"), (std::vector<Loc>{{"body"}}));
  EXPECT_EQ(Locs("{}"), (std::vector<Loc>{{"body", "input"}, {"body", "model"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":5})"), (std::vector<Loc>{{"body", "model"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":""})"), (std::vector<Loc>{{"body", "model"}}));
  EXPECT_EQ(Locs(R"({"input":"","model":"m"})"), (std::vector<Loc>{{"body", "input"}}));
  EXPECT_EQ(Locs(R"({"input":[],"model":"m"})"), (std::vector<Loc>{{"body", "input"}}));
  EXPECT_EQ(Locs(R"({"input":{},"model":"m"})"), (std::vector<Loc>{{"body", "input"}}));
  EXPECT_EQ(Locs(R"({"input":42,"model":"m"})"), (std::vector<Loc>{{"body", "input"}}));
  EXPECT_EQ(Locs(R"({"input":["a","",3],"model":"m"})"),
            (std::vector<Loc>{{"body", "input", "1"}, {"body", "input", "2"}}));
  EXPECT_EQ(Locs(R"({"input":[1,-2,"x",2.5,4294967296],"model":"m"})"),
            (std::vector<Loc>{{"body", "input", "1"},
                              {"body", "input", "2"},
                              {"body", "input", "3"},
                              {"body", "input", "4"}}));
  EXPECT_EQ(Locs(R"({"input":[[1],[],[2,"a"],5],"model":"m"})"),
            (std::vector<Loc>{
                {"body", "input", "1"}, {"body", "input", "2", "1"}, {"body", "input", "3"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":"m","encoding_format":"int8"})"),
            (std::vector<Loc>{{"body", "encoding_format"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":"m","dimensions":0})"),
            (std::vector<Loc>{{"body", "dimensions"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":"m","dimensions":"8"})"),
            (std::vector<Loc>{{"body", "dimensions"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":"m","dimensions":true})"),
            (std::vector<Loc>{{"body", "dimensions"}}));
  EXPECT_EQ(Locs(R"({"input":"x","model":"m","user":1})"), (std::vector<Loc>{{"body", "user"}}));
  auto missing = ParseEmbeddingsRequest(R"({"model":"m"})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().fields[0].msg, "Field required");
  EXPECT_EQ(missing.error().fields[0].type, "missing");
  // An explicit null is a value of the wrong type, not a missing field.
  for (const char* body : {R"({"input":null,"model":"m"})", R"({"input":"x","model":null})"}) {
    auto null = ParseEmbeddingsRequest(body);
    ASSERT_FALSE(null) << body;
    EXPECT_EQ(null.error().fields.at(0).type, "string_type") << body;
  }
}

TEST(EmbeddingsJsonTest, ResponseHasOpenAiShapeAndExactFloats) {
  embeddings::EmbedResult r;
  r.vectors = {{0.1f, -2.5f, 1e-8f}, {3.0f, 0.0f, 0.333333343f}};
  r.prompt_tokens = 9;
  json::value doc = json::parse(EmbeddingsResponseJson(r, "my-model", EncodingFormat::kFloat));
  EXPECT_EQ(doc.at("object"), "list");
  EXPECT_EQ(doc.at("model"), "my-model");
  EXPECT_EQ(doc.at("usage").at("prompt_tokens"), 9);
  EXPECT_EQ(doc.at("usage").at("total_tokens"), 9);
  const auto& data = doc.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  for (std::size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(data[i].at("object"), "embedding");
    EXPECT_EQ(data[i].at("index"), static_cast<std::int64_t>(i));
    const auto& e = data[i].at("embedding").as_array();
    ASSERT_EQ(e.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) {
      // Text → double → float gives back the very float32 the model produced.
      double d =
          e[k].is_double() ? e[k].get_double() : static_cast<double>(e[k].to_number<double>());
      EXPECT_EQ(static_cast<float>(d), r.vectors[i][k]);
    }
  }
}

TEST(EmbeddingsJsonTest, Base64ResponseDecodesToTheSameFloats) {
  embeddings::EmbedResult r;
  r.vectors = {{0.1f, -2.5f, 1e-8f, 7.0f}};
  r.prompt_tokens = 3;
  json::value doc = json::parse(EmbeddingsResponseJson(r, "m", EncodingFormat::kBase64));
  std::string b64(doc.at("data").at(0).at("embedding").as_string());
  // Decode by hand (RFC 4648) and read little-endian float32.
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
  };
  std::string bytes;
  for (std::size_t i = 0; i + 4 <= b64.size(); i += 4) {
    int n = (val(b64[i]) << 18) | (val(b64[i + 1]) << 12) |
            ((b64[i + 2] == '=' ? 0 : val(b64[i + 2])) << 6) |
            (b64[i + 3] == '=' ? 0 : val(b64[i + 3]));
    bytes += static_cast<char>((n >> 16) & 0xFF);
    if (b64[i + 2] != '=') bytes += static_cast<char>((n >> 8) & 0xFF);
    if (b64[i + 3] != '=') bytes += static_cast<char>(n & 0xFF);
  }
  ASSERT_EQ(bytes.size(), 16u);
  for (std::size_t k = 0; k < 4; ++k) {
    std::uint32_t u = 0;
    for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(bytes[k * 4 + b]);
    float f;
    std::memcpy(&f, &u, 4);
    EXPECT_EQ(f, r.vectors[0][k]);
  }
}

}  // namespace
}  // namespace vectorize::http
