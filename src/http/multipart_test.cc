#include "http/multipart.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace vectorize::http {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MultipartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vz-multipart-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::size_t FilesInDir() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  // Feeds `body` in chunks of `chunk` bytes.
  Result<MultipartForm> Parse(const std::string& body, std::size_t chunk,
                              MultipartLimits limits = {}, std::string boundary = "XyZ") {
    MultipartParser parser(boundary, dir_.string(), limits);
    for (std::size_t i = 0; i < body.size(); i += chunk) {
      if (auto s = parser.Feed(std::string_view(body).substr(i, chunk)); !s) {
        return Fail(s.error());
      }
    }
    return parser.Finish();
  }

  fs::path dir_;
};

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"question_name\"\r\n"
    "\r\n"
    "q\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"a.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "question,positive\r\nwhat,that\r\n-- not a boundary\r\n--XyQ either\r\n"
    "\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=files; filename*=UTF-8''%C3%A9t%C3%A9.csv\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue";

TEST_F(MultipartTest, ParsesFieldsAndFilesAtEveryChunkSize) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                            std::size_t{64}, kBody.size()}) {
    SCOPED_TRACE(chunk);
    auto form = Parse(kBody, chunk);
    ASSERT_TRUE(form) << form.error().message;
    ASSERT_EQ(form->parts.size(), 3u);
    EXPECT_EQ(form->parts[0].name, "question_name");
    EXPECT_FALSE(form->parts[0].filename);
    EXPECT_EQ(form->parts[0].value, "q");
    const auto files = form->All("files");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(*files[0]->filename, "a.csv");
    EXPECT_EQ(files[0]->content_type, "text/csv");
    EXPECT_EQ(ReadFile(files[0]->file_path),
              "question,positive\r\nwhat,that\r\n-- not a boundary\r\n--XyQ either\r\n");
    EXPECT_EQ(files[0]->size, ReadFile(files[0]->file_path).size());
    EXPECT_EQ(*files[1]->filename, "\xC3\xA9t\xC3\xA9.csv");
    EXPECT_EQ(ReadFile(files[1]->file_path), "") << "the CRLF before a delimiter belongs to it";
    EXPECT_EQ(FilesInDir(), 2u);
  }
  EXPECT_EQ(FilesInDir(), 0u) << "forms remove their temp files";
}

TEST_F(MultipartTest, BoundaryOnTheFirstLineAndEmptyParts) {
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--";
  auto form = Parse(body, 5);
  ASSERT_TRUE(form) << form.error().message;
  ASSERT_EQ(form->parts.size(), 1u);
  EXPECT_EQ(form->parts[0].value, "");
}

TEST_F(MultipartTest, QuotedNamesKeepSemicolonsAndEscapes) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; "
      "filename=\"; rm -rf \\\"x\\\".csv\"\r\n\r\nabc\r\n--XyZ--\r\n";
  auto form = Parse(body, 4);
  ASSERT_TRUE(form) << form.error().message;
  ASSERT_EQ(form->parts.size(), 1u);
  EXPECT_EQ(*form->parts[0].filename, "; rm -rf \"x\".csv");
}

TEST_F(MultipartTest, MissingFinalBoundaryFailsAndLeavesNoFiles) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.csv\"\r\n\r\n"
      "data without end";
  auto form = Parse(body, 3);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(form.error().message.find("closing boundary"), std::string::npos);
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(MultipartTest, NoBoundaryAtAll) {
  auto form = Parse("just some bytes", 4);
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message.find("no boundary"), std::string::npos);
}

TEST_F(MultipartTest, HugeFieldIsRefused) {
  MultipartLimits limits;
  limits.max_field_bytes = 1000;
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"big\"\r\n\r\n" +
                           std::string(5000, 'x') + "\r\n--XyZ--\r\n";
  auto form = Parse(body, 333, limits);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(form.error().message.find("larger than 1000"), std::string::npos);
}

TEST_F(MultipartTest, HugeHeadersAndTooManyPartsAreRefused) {
  MultipartLimits limits;
  limits.max_header_bytes = 100;
  auto form =
      Parse("--XyZ\r\nX-Long: " + std::string(500, 'h') + "\r\n\r\nx\r\n--XyZ--", 17, limits);
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message.find("headers larger"), std::string::npos);

  limits = {};
  limits.max_parts = 2;
  std::string body;
  for (int i = 0; i < 3; ++i)
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
  body += "--XyZ--";
  form = Parse(body, 9, limits);
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message.find("more than 2 parts"), std::string::npos);
}

TEST_F(MultipartTest, MalformedPartHeaders) {
  for (const std::string& headers :
       {std::string("Content-Disposition: attachment; name=\"x\""), std::string("no colon here"),
        std::string("Content-Type: text/plain"),
        std::string("Content-Disposition: form-data; filename=\"a.csv\"")}) {
    SCOPED_TRACE(headers);
    auto form = Parse("--XyZ\r\n" + headers + "\r\n\r\nx\r\n--XyZ--", 6);
    ASSERT_FALSE(form);
    EXPECT_EQ(form.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(MultipartTest, BareLfIsNotALineBreak) {
  // RFC 2046 delimiters need CRLF; a bare LF before "--XyZ" is part of the content.
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--XyZ\r\n--XyZ--";
  auto form = Parse(body, 2);
  ASSERT_TRUE(form) << form.error().message;
  EXPECT_EQ(form->parts[0].value, "x\n--XyZ");
}

TEST_F(MultipartTest, LargeRandomFileSurvivesAnyChunking) {
  std::mt19937 rng(42);
  std::string content(1 << 20, '\0');
  for (char& c : content) c = static_cast<char>(rng() % 256);
  // Sprinkle near-delimiters into the content.
  for (std::size_t i = 1000; i + 10 < content.size(); i += 50'000) {
    content.replace(i, 8, "\r\n--XyZ");
    content[i + 6] = 'Q';
  }
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; "
      "filename=\"big.bin\"\r\n\r\n" +
      content + "\r\n--XyZ--\r\n";
  for (std::size_t chunk : {std::size_t{4093}, std::size_t{65536}}) {
    auto form = Parse(body, chunk);
    ASSERT_TRUE(form) << form.error().message;
    EXPECT_EQ(form->parts[0].size, content.size());
    EXPECT_EQ(ReadFile(form->parts[0].file_path), content);
  }
}

TEST(MultipartBoundaryTest, FromContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(MultipartBoundary("application/json"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary="));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST_F(MultipartTest, ParseMultipartFileReadsABodyFromDisk) {
  const std::string path = (dir_ / "body").string();
  std::ofstream(path, std::ios::binary) << kBody;
  auto form = ParseMultipartFile(path, "multipart/form-data; boundary=XyZ", dir_.string());
  ASSERT_TRUE(form) << form.error().message;
  EXPECT_EQ(form->All("files").size(), 2u);
}

}  // namespace
}  // namespace vectorize::http
