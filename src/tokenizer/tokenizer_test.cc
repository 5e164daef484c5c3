#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vectorize::tokenizer {
namespace {

using namespace std::string_view_literals;

std::shared_ptr<const Tokenizer> Real() {
  static auto t = Tokenizer::FromFile(std::string(VZ_TOKENIZER_TESTDATA) + "/tokenizer.json");
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
  return *t;
}

struct Case {
  std::string_view text;
  std::vector<std::int32_t> ids;
};

// Expected ids for the real bert-base-uncased tokenizer.json (tests/testdata/tokenizer.json),
// derived by an independent re-statement of the `tokenizers` rules over Python's unicodedata and
// checked token by token against the vocabulary in the file (e.g. "ang" 17076, "##strom" 15687,
// "ᄒ" 1469, "##ᅡ" 30006, "ﬁ" 1984; "爱", "ⅻ", emoji and Thai are absent → [UNK] 100).
const std::vector<Case>& RealCases() {
  static const std::vector<Case> cases = {
      {"Hello, world!"sv, {101, 7592, 1010, 2088, 999, 102}},
      {"The quick brown fox jumps over the lazy dog."sv,
       {101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102}},
      {"café Ångström naïve résumé"sv, {101, 7668, 17076, 15687, 15743, 13746, 102}},
      {"ÉCOLE Über"sv, {101, 12431, 19169, 102}},
      {"我爱北京天安门"sv, {101, 1855, 100, 1781, 1755, 1811, 1820, 100, 102}},
      {"日本語のテキスト"sv, {101, 1864, 1876, 1950, 1671, 30239, 30227, 30233, 30240, 102}},
      {"한국어"sv, {101, 1469, 30006, 30021, 29991, 30014, 30020, 29999, 30008, 102}},
      {"I love 🤗 and 😀!"sv, {101, 1045, 2293, 100, 1998, 100, 999, 102}},
      {"wait...!!! ?!?"sv, {101, 3524, 1012, 1012, 1012, 999, 999, 999, 1029, 999, 1029, 102}},
      {"tab\there\nnewline\r\nend"sv, {101, 21628, 2182, 2047, 4179, 2203, 102}},
      {"non\xC2\xA0"
       "breaking\xE2\x80\x83"
       "em\xE3\x80\x80"
       "ideo"sv,
       {101, 2512, 4911, 7861, 8909, 8780, 102}},
      {"zero\xE2\x80\x8B"
       "width\xE2\x80\x8D"
       "joiner"sv,
       {101, 5717, 9148, 11927, 2232, 5558, 26455, 102}},
      {"ctrl\x00"
       "chars\x07"
       "\x1B"
       "[0m\x0B"
       "vt\x0C"
       "ff"sv,
       {101, 14931, 12190, 7507, 2869, 1031, 1014, 2213, 2615, 24475, 2546, 102}},
      {"e\xCC\x81"
       " combining a\xCC\x88"sv,
       {101, 1041, 11566, 1037, 102}},
      {"unaffable tokenization"sv, {101, 14477, 20961, 3468, 19204, 3989, 102}},
      {"Привет мир"sv, {101, 1194, 16856, 10325, 25529, 15290, 22919, 1191, 10325, 16856, 102}},
      {"mixed: naïve中文text123 ÷×"sv,
       {101, 3816, 1024, 15743, 1746, 1861, 3793, 12521, 2509, 1099, 26306, 102}},
      {"$100 + 5% = <tag> ^_^ `code` |pipe| ~tilde"sv,
       {101,  1002, 2531, 1009, 1019, 1003, 1027, 1026, 6415,  1028, 1034, 1035,
        1034, 1036, 3642, 1036, 1064, 8667, 1064, 1066, 18681, 3207, 102}},
      {"[CLS] hello [SEP] world[MASK]"sv, {101, 101, 7592, 102, 2088, 103, 102}},
      {"[cls] lower specials"sv, {101, 1031, 18856, 2015, 1033, 2896, 19247, 102}},
      {"İstanbul"sv, {101, 9960, 102}},
      {"ﬁ ligature Ⅻ ²"sv, {101, 1984, 8018, 11244, 100, 1082, 102}},
      {"¿Qué? ¡Sí! — “quoted” …"sv,
       {101, 1094, 10861, 1029, 1067, 9033, 999, 1517, 1523, 9339, 1524, 1529, 102}},
      {""sv, {101, 102}},
      {"   "sv, {101, 102}},
      {"\xEF\xBF\xBD"
       "\xEF\xBF\xBD"sv,
       {101, 102}},
      {"supercalifragilisticexpialidocious"sv,
       {101, 3565, 9289, 10128, 29181, 24411, 4588, 10288, 19312, 21273, 10085, 6313, 102}},
      {"GPU-accelerated, state-of-the-art embeddings (v2.0)"sv,
       {101,  14246, 2226, 1011, 14613, 1010, 2110, 1011, 1997, 1011, 1996, 1011,
        2396, 7861,  8270, 4667, 2015,  1006, 1058, 2475, 1012, 1014, 1007, 102}},
      {"ΑΒΓ αβγ Ωμέγα"sv,
       {101, 1155, 29720, 29721, 1155, 29720, 29721, 1179, 29728, 29723, 29721, 14608, 102}},
      {"مرحبا بالعالم"sv,
       {101, 1295, 17149, 29820, 29816, 25573, 1271, 25573, 23673, 29830, 25573, 23673, 22192,
        102}},
      {"ע\xD6\xB4"
       "ב\xD6\xB0"
       "ר\xD6\xB4"
       "ית"sv,
       {101, 1259, 29789, 29811, 29796, 29813, 102}},
      {"ไทย"sv, {101, 100, 102}},
      {"x\xC2\x85"
       "y\xE2\x80\xA8"
       "z"sv,
       {101, 1060, 2100, 1062, 102}},
  };
  return cases;
}

TEST(TokenizerTest, MatchesHuggingFaceOnHardStrings) {
  auto tok = Real();
  for (const Case& c : RealCases()) {
    EXPECT_EQ(tok->Encode(c.text), c.ids) << "text: " << c.text;
  }
}

TEST(TokenizerTest, ReadsSpecialTokensFromTheFile) {
  auto tok = Real();
  EXPECT_EQ(tok->vocab_size(), 30522u);
  EXPECT_EQ(tok->unk_id(), 100);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->num_special_tokens(), 2u);
  EXPECT_EQ(tok->TokenToId("[CLS]"), 101);
  EXPECT_EQ(tok->TokenToId("##strom"), 15687);
  EXPECT_EQ(tok->TokenToId("no-such-token"), std::nullopt);
  EXPECT_EQ(tok->IdsToTokens({101, 17076, 15687, 102, 999999}),
            (std::vector<std::string>{"[CLS]", "ang", "##strom", "[SEP]", ""}));
}

TEST(TokenizerTest, WordsOverMaxInputCharsBecomeUnk) {
  auto tok = Real();
  // 100 characters is still split into pieces: "aaa" then "##aa" × 48 then "##a".
  std::vector<std::int32_t> expect = {101, 13360};
  for (int i = 0; i < 48; ++i) expect.push_back(11057);
  expect.push_back(2050);
  expect.push_back(102);
  EXPECT_EQ(tok->Encode(std::string(100, 'a')), expect);
  EXPECT_EQ(tok->Encode(std::string(101, 'a')), (std::vector<std::int32_t>{101, 100, 102}));
  // The limit counts characters, not bytes: 60 × "é" is 120 bytes but normalises to 60 "e".
  std::string accented;
  for (int i = 0; i < 60; ++i) accented += "é";
  auto ids = tok->Encode(accented);
  EXPECT_NE(ids[1], 100);
}

TEST(TokenizerTest, TruncatesIncludingSpecials) {
  auto tok = Real();
  const auto text = "The quick brown fox jumps over the lazy dog."sv;
  EXPECT_EQ(tok->Encode(text, 5), (std::vector<std::int32_t>{101, 1996, 4248, 2829, 102}));
  EXPECT_EQ(tok->Encode(text, 2), (std::vector<std::int32_t>{101, 102}));
  EXPECT_EQ(tok->Encode(text, 1), (std::vector<std::int32_t>{101, 102}));
  EXPECT_EQ(tok->Encode(text, 12), tok->Encode(text));
  EXPECT_EQ(tok->Encode(text, 500), tok->Encode(text));
  // Truncation in the middle of a word's pieces and at a special token.
  EXPECT_EQ(tok->Encode("unaffable", 3), (std::vector<std::int32_t>{101, 14477, 102}));
  EXPECT_EQ(tok->Encode("hi [SEP] there", 4), (std::vector<std::int32_t>{101, 7632, 102, 102}));
  EXPECT_EQ(tok->Encode("Hello, world!", 0, false),
            (std::vector<std::int32_t>{7592, 1010, 2088, 999}));
}

TEST(TokenizerTest, WrapIdsAddsSpecialsAndTruncates) {
  auto tok = Real();
  EXPECT_EQ(tok->WrapIds({7592, 2088}), (std::vector<std::int32_t>{101, 7592, 2088, 102}));
  EXPECT_EQ(tok->WrapIds({7592, 2088, 999}, 4), (std::vector<std::int32_t>{101, 7592, 2088, 102}));
  EXPECT_EQ(tok->WrapIds({}), (std::vector<std::int32_t>{101, 102}));
}

// Ids as Hugging Face's tokenizer(text)["input_ids"] gives them ([CLS] … [SEP]) are not wrapped
// again: they come out as Encode(text) does, truncated the same way.
TEST(TokenizerTest, WrapIdsLeavesAlreadyWrappedIdsAlone) {
  auto tok = Real();
  const auto encoded = tok->Encode("Hello, world!");
  ASSERT_EQ(encoded, (std::vector<std::int32_t>{101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(tok->WrapIds(encoded), encoded);
  EXPECT_EQ(tok->WrapIds(encoded, 4), tok->Encode("Hello, world!", 4));
  EXPECT_EQ(tok->WrapIds({101, 102}), (std::vector<std::int32_t>{101, 102}));
  // Only one end special: the content is wrapped as given.
  EXPECT_EQ(tok->WrapIds({101, 7592}), (std::vector<std::int32_t>{101, 101, 7592, 102}));
  EXPECT_EQ(tok->WrapIds({7592, 102}), (std::vector<std::int32_t>{101, 7592, 102, 102}));
  EXPECT_EQ(tok->WrapIds({102}), (std::vector<std::int32_t>{101, 102, 102}));
}

TEST(TokenizerTest, InvalidUtf8IsDroppedLikeReplacementCharacters) {
  auto tok = Real();
  EXPECT_EQ(tok->Encode("hello\xFF\xFEworld\xC3"), tok->Encode("helloworld"));
  EXPECT_EQ(tok->Encode("\xE2\x82"), (std::vector<std::int32_t>{101, 102}));
}

// A small hand-written tokenizer.json to exercise options the real file does not set.
std::string SmallJson(std::string_view normalizer, std::string_view post,
                      std::string_view added = "[]", std::string_view extra = "") {
  return std::string(R"({"version":"1.0","added_tokens":)") + std::string(added) +
         R"(,"normalizer":)" + std::string(normalizer) +
         R"(,"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":)" + std::string(post) +
         std::string(extra) +
         R"(,"model":{"type":"WordPiece","unk_token":"<unk>","continuing_subword_prefix":"##",)"
         R"("max_input_chars_per_word":5,"vocab":{"<pad>":0,"<unk>":1,"<s>":2,"</s>":3,)"
         R"("caf":4,"##é":5,"##e":6,"café":7,"Café":8,"i̇":9,"ab":10,"##c":11,"<x>":12,)"
         R"(",":13,"abc":14,"a":15,"##b":16}}})";
}

constexpr std::string_view kBertProcessing =
    R"({"type":"BertProcessing","sep":["</s>",3],"cls":["<s>",2]})";

TEST(TokenizerTest, CasedWithoutAccentStripping) {
  auto t = Tokenizer::FromJson(
      SmallJson(R"({"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,)"
                R"("strip_accents":null,"lowercase":false})",
                kBertProcessing));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  // strip_accents null follows lowercase=false: accents stay, case stays.
  EXPECT_EQ((*t)->Encode("Café café"), (std::vector<std::int32_t>{2, 8, 7, 3}));
  // The unknown token and the pad id come from the file, not BERT's defaults.
  EXPECT_EQ((*t)->Encode("zzz"), (std::vector<std::int32_t>{2, 1, 3}));
  EXPECT_EQ((*t)->pad_id(), 0);
  // max_input_chars_per_word = 5 counts characters: "abcab" fits, "abcabc" does not.
  EXPECT_EQ((*t)->Encode("abc,abcabc"), (std::vector<std::int32_t>{2, 14, 13, 1, 3}));
}

TEST(TokenizerTest, LowercaseWithoutStripKeepsFullLowercaseMapping) {
  auto t = Tokenizer::FromJson(SmallJson(
      R"({"type":"BertNormalizer","strip_accents":false,"lowercase":true})", kBertProcessing));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ((*t)->Encode("CAFÉ"), (std::vector<std::int32_t>{2, 7, 3}));
  // U+0130 lowercases to "i" + U+0307 (Rust's full mapping), which is in this vocab.
  EXPECT_EQ((*t)->Encode("İ"), (std::vector<std::int32_t>{2, 9, 3}));
}

TEST(TokenizerTest, StripAccentsExplicitlyTrueWithoutLowercase) {
  auto t = Tokenizer::FromJson(SmallJson(
      R"({"type":"BertNormalizer","strip_accents":true,"lowercase":false})", kBertProcessing));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ((*t)->Encode("café"), (std::vector<std::int32_t>{2, 4, 6, 3}));
}

TEST(TokenizerTest, NormalizedAndStrippedAddedTokens) {
  auto t = Tokenizer::FromJson(
      SmallJson(R"({"type":"BertNormalizer","lowercase":true})", kBertProcessing,
                R"([{"id":12,"content":"<X>","special":false,"normalized":true,"lstrip":false,)"
                R"("rstrip":false,"single_word":false},{"id":2,"content":"<s>","special":true,)"
                R"("normalized":false,"lstrip":true,"rstrip":true,"single_word":false}])"));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  // "<X>" is matched after lowercasing (normalized token); "<s>" only verbatim in the raw text.
  EXPECT_EQ((*t)->Encode("ab<X>ab"), (std::vector<std::int32_t>{2, 10, 12, 10, 3}));
  EXPECT_EQ((*t)->Encode("ab  <s>  ab"), (std::vector<std::int32_t>{2, 10, 2, 10, 3}));
  EXPECT_EQ((*t)->Encode("<S>"), (std::vector<std::int32_t>{2, 1, 1, 1, 3}));
}

TEST(TokenizerTest, TemplateProcessingWithoutSpecialsAndNullNormalizer) {
  auto t = Tokenizer::FromJson(SmallJson(
      "null", R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}}],)"
              R"("pair":[],"special_tokens":{}})"));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ((*t)->num_special_tokens(), 0u);
  EXPECT_EQ((*t)->Encode("Café ab"), (std::vector<std::int32_t>{8, 10}));
  EXPECT_EQ((*t)->Encode("ab ab ab", 2), (std::vector<std::int32_t>{10, 10}));
}

TEST(TokenizerTest, MalformedFilesAreClearErrors) {
  struct Bad {
    std::string json;
    std::string_view expect;
  };
  const std::string norm = R"({"type":"BertNormalizer"})";
  const std::vector<Bad> bad = {
      {"", "not valid JSON"},
      {"{\"model\": ", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {"{}", "\"model\" is missing"},
      {R"({"model":{"type":"BPE","vocab":{"a":0}}})", "model type \"BPE\" is not supported"},
      {R"({"model":{"type":"WordPiece","vocab":{}}})", "missing or empty"},
      {R"({"model":{"type":"WordPiece","vocab":{"a":-1}}})", "invalid id"},
      {R"({"model":{"type":"WordPiece","vocab":{"a":"x"}}})", "invalid id"},
      {R"({"model":{"type":"WordPiece","vocab":{"a":99999999999}}})", "invalid id"},
      {R"({"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"a":0}}})",
       "unk_token \"[UNK]\" is not in the vocabulary"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":{"type":"NFKC"},)"
       R"("pre_tokenizer":{"type":"BertPreTokenizer"}})",
       "normalizer \"NFKC\" is not supported"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":null,)"
       R"("pre_tokenizer":{"type":"Metaspace"}})",
       "pre_tokenizer \"Metaspace\" is not supported"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":null})",
       "pre_tokenizer \"null\" is not supported"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":null,)"
       R"("pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"ByteLevel"}})",
       "post_processor \"ByteLevel\" is not supported"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":null,)"
       R"("pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":)"
       R"("TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]"}},{"Sequence":{}}],)"
       R"("special_tokens":{}}})",
       "special token \"[CLS]\" has no ids"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":null,)"
       R"("pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":)"
       R"("BertProcessing","sep":["[SEP]",7],"cls":["[CLS]",0]}})",
       "BertProcessing needs cls and sep"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"added_tokens":[{"id":1}]})",
       "an added token needs"},
      {R"({"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"added_tokens":{}})",
       "\"added_tokens\" is not an array"},
  };
  for (const Bad& b : bad) {
    auto t = Tokenizer::FromJson(b.json);
    ASSERT_FALSE(t.has_value()) << b.json;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument) << b.json;
    EXPECT_NE(t.error().message.find(b.expect), std::string::npos)
        << b.json << " → " << t.error().message;
    EXPECT_EQ(t.error().message.rfind("tokenizer.json: ", 0), 0u) << t.error().message;
  }
}

TEST(TokenizerTest, MissingFileIsNotFound) {
  auto t = Tokenizer::FromFile("/nonexistent/tokenizer.json");
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
}

TEST(TokenizerTest, ConcurrentEncodesAgree) {
  auto tok = Real();
  std::vector<std::vector<std::int32_t>> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) results[i] = tok->Encode("café Ångström naïve résumé 我");
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, results[0]);
}

}  // namespace
}  // namespace vectorize::tokenizer
