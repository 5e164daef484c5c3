#include "modelfiles/safetensors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace vectorize::modelfiles {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vz_safetensors_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the length prefix, `header` verbatim and `data_bytes` zero bytes.
  fs::path Write(const std::string& header, std::size_t data_bytes, std::uint64_t length = 0) {
    const fs::path p = dir_ / "x.safetensors";
    std::ofstream out(p, std::ios::binary);
    std::uint64_t n = length ? length : header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << std::string(data_bytes, '\0');
    return p;
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, ReadsTensorsInDataOrderWithAbsoluteOffsets) {
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},)"
      R"("a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}})";
  auto st = ReadSafetensorsHeader(Write(header, 32));
  ASSERT_TRUE(st.has_value()) << st.error().message;
  ASSERT_EQ(st->tensors.size(), 2u);
  EXPECT_EQ(st->tensors[0].name, "a");
  EXPECT_EQ(st->tensors[0].dtype, DType::kI64);
  EXPECT_EQ(st->tensors[1].name, "b");
  EXPECT_EQ(st->tensors[1].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(st->tensors[1].offset, 8 + header.size() + 8);
  EXPECT_EQ(st->tensors[1].numel(), 6);
  EXPECT_EQ(st->metadata.at("format"), "pt");
}

TEST_F(SafetensorsTest, RefusesTruncatedFile) {
  auto st = ReadSafetensorsHeader(
      Write(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 15));
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find("x.safetensors"), std::string::npos);
  EXPECT_NE(st.error().message.find("truncated"), std::string::npos) << st.error().message;
}

TEST_F(SafetensorsTest, RefusesTrailingBytes) {
  auto st = ReadSafetensorsHeader(
      Write(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 17));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("after the last tensor"), std::string::npos);
}

TEST_F(SafetensorsTest, RefusesBadJson) {
  auto st = ReadSafetensorsHeader(Write(R"({"a":{"dtype":"F32",)", 0));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("not valid JSON"), std::string::npos) << st.error().message;
  st = ReadSafetensorsHeader(Write(R"([1,2])", 0));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("not a JSON object"), std::string::npos);
}

TEST_F(SafetensorsTest, RefusesHeaderLengthBeyondFile) {
  auto st = ReadSafetensorsHeader(Write("{}", 0, 1ull << 40));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("does not fit"), std::string::npos) << st.error().message;
}

TEST_F(SafetensorsTest, RefusesTinyAndMissingFiles) {
  const fs::path p = dir_ / "tiny.safetensors";
  std::ofstream(p) << "abc";
  auto st = ReadSafetensorsHeader(p);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  st = ReadSafetensorsHeader(dir_ / "none.safetensors");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
}

TEST_F(SafetensorsTest, RefusesUnknownDtypeAndSizeMismatch) {
  auto st = ReadSafetensorsHeader(
      Write(R"({"a":{"dtype":"F8_E4M3X","shape":[4],"data_offsets":[0,4]}})", 4));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("unsupported dtype 'F8_E4M3X'"), std::string::npos);
  st = ReadSafetensorsHeader(
      Write(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("need 12"), std::string::npos) << st.error().message;
}

TEST_F(SafetensorsTest, RefusesGapsOverlapsAndBadOffsets) {
  // Gap: b starts at 20 instead of 16.
  auto st =
      ReadSafetensorsHeader(Write(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]}})",
                                  24));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("contiguous"), std::string::npos) << st.error().message;
  // Overlap: both at 0.
  st = ReadSafetensorsHeader(Write(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                   4));
  ASSERT_FALSE(st.has_value());
  // Negative / reversed offsets, negative dimension, missing fields.
  for (const char* h :
       {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
        R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
        R"({"a":{"dtype":"F32","data_offsets":[0,4]}})",
        R"({"a":{"shape":[1],"data_offsets":[0,4]}})",
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})",
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":3})"}) {
    st = ReadSafetensorsHeader(Write(h, 4));
    EXPECT_FALSE(st.has_value()) << h;
  }
}

}  // namespace
}  // namespace vectorize::modelfiles
