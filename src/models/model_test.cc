// Tags, Hub file selection, model folder discovery and pruning, archive safety.
#include "models/model.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "models/archive.h"
#include "models/model_files.h"

namespace vectorize::models {
namespace {
namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  std::random_device rd;
  auto d = fs::temp_directory_path() / fmt::format("vz_models_{}_{}_{}", name, ::getpid(), rd());
  fs::create_directories(d);
  return d;
}

void Write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

// Writes a zip (or tar.gz) with the given (name, content) entries; content "<symlink>" makes a
// symbolic link to /etc/passwd.
void MakeArchive(const fs::path& out,
                 const std::vector<std::pair<std::string, std::string>>& entries, bool zip = true) {
  archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  for (const auto& [name, content] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    if (content == "<symlink>") {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, "/etc/passwd");
      archive_entry_set_perm(e, 0777);
      archive_write_header(a, e);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, la_int64_t(content.size()));
      archive_write_header(a, e);
      archive_write_data(a, content.data(), content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(ModelTagTest, ValidatesAndDerives) {
  EXPECT_TRUE(ValidateTag("org--name_v1.2"));
  for (std::string bad :
       std::vector<std::string>{"", "a/b", "a b", ".hidden", "-x", "ü", std::string(101, 'a')})
    EXPECT_FALSE(ValidateTag(bad)) << bad;
  EXPECT_EQ(DeriveTag("sentence-transformers/all-MiniLM-L6-v2"),
            "sentence-transformers--all-MiniLM-L6-v2");
  EXPECT_EQ(DeriveTag("my model@v1"), "my_model_v1");
  EXPECT_EQ(DeriveTag("../../x"), "x");
  EXPECT_EQ(DeriveTag(""), "model");
  EXPECT_TRUE(ValidateTag(DeriveTag("../../x")));
  EXPECT_EQ(DeriveTag(std::string(300, 'a')).size(), 100u);
}

std::vector<std::string> Paths(const std::vector<remote::HubFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<remote::HubFile> Files(std::initializer_list<const char*> names) {
  std::vector<remote::HubFile> out;
  for (const char* n : names) out.push_back({n, std::nullopt, std::nullopt, std::nullopt});
  return out;
}

TEST(SelectHubModelFilesTest, TakesWhatAModelNeeds) {
  auto r = SelectHubModelFiles(
      Files({"config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin",
             "onnx/model.onnx", "README.md", "1_Pooling/config.json", "modules.json", "vocab.txt",
             "tf_model.h5", ".gitattributes"}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(Paths(*r),
            (std::vector<std::string>{"1_Pooling/config.json", "config.json", "model.safetensors",
                                      "modules.json", "tokenizer.json", "vocab.txt"}));
  auto shards = SelectHubModelFiles(
      Files({"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
             "model-00002-of-00002.safetensors", "pytorch_model.bin"}));
  ASSERT_TRUE(shards.has_value());
  EXPECT_EQ(Paths(*shards).size(), 4u);
  auto bin = SelectHubModelFiles(Files({"config.json", "pytorch_model.bin"}));
  ASSERT_TRUE(bin.has_value());
  EXPECT_EQ(Paths(*bin), (std::vector<std::string>{"config.json", "pytorch_model.bin"}));
  auto no_weights = SelectHubModelFiles(Files({"config.json", "tokenizer.json"}));
  ASSERT_FALSE(no_weights.has_value());
  EXPECT_NE(no_weights.error().message.find("weights"), std::string::npos);
  auto no_config = SelectHubModelFiles(Files({"model.safetensors"}));
  ASSERT_FALSE(no_config.has_value());
  EXPECT_NE(no_config.error().message.find("config.json"), std::string::npos);
}

TEST(ModelFolderTest, FindsModelFoldersAndPrunes) {
  auto root = TempDir("find");
  Write(root / "a" / "config.json", "{}");
  Write(root / "a" / "1_Pooling" / "config.json", "{}");
  Write(root / "a" / "onnx" / "config.json", "{}");  // nested copy: part of a
  Write(root / "deep" / "x" / "b" / "config.json", "{}");
  Write(root / "docs" / "README.md", "#");
  EXPECT_EQ(FindModelFolders(root), (std::vector<fs::path>{"a", "deep/x/b"}));
  Write(root / "a" / "model.safetensors", "w");
  Write(root / "a" / "README.md", "#");
  Write(root / "a" / ".git" / "HEAD", "x");
  Write(root / "a" / "1_Pooling" / "notes.md", "x");
  Write(root / "a" / "train.py", "x");
  PruneToModelFiles(root / "a");
  std::vector<std::string> left;
  for (auto& e : fs::recursive_directory_iterator(root / "a"))
    if (e.is_regular_file()) left.push_back(fs::relative(e.path(), root / "a").string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"1_Pooling/config.json", "config.json",
                                            "model.safetensors"}));
  auto single = TempDir("single");
  Write(single / "config.json", "{}");
  EXPECT_EQ(FindModelFolders(single), (std::vector<fs::path>{""}));
  fs::remove_all(root);
  fs::remove_all(single);
}

TEST(ModelFolderTest, FromGitHubTreePaths) {
  EXPECT_EQ(ModelFoldersFromPaths(
                {"README.md", "config.json", "1_Pooling/config.json", "onnx/config.json"}),
            (std::vector<std::string>{""}));
  EXPECT_EQ(ModelFoldersFromPaths({"a/config.json", "a/1_Pooling/config.json", "b/c/config.json",
                                   "docs/index.md", "b/c/2_Dense/config.json"}),
            (std::vector<std::string>{"a", "b/c"}));
  EXPECT_TRUE(ModelFoldersFromPaths({"README.md", "x/y.json"}).empty());
}

TEST(ArchiveTest, EntryPathsAreChecked) {
  EXPECT_EQ(*SafeEntryPath("a/./b//c.json"), fs::path("a/b/c.json"));
  EXPECT_FALSE(SafeEntryPath("../x"));
  EXPECT_FALSE(SafeEntryPath("a/../../x"));
  EXPECT_FALSE(SafeEntryPath("/etc/passwd"));
  EXPECT_FALSE(SafeEntryPath("a\\..\\x"));
  EXPECT_FALSE(SafeEntryPath(std::string("a\0b", 3)));
}

TEST(ArchiveTest, ExtractsZipAndTarGz) {
  auto d = TempDir("extract");
  MakeArchive(d / "m.zip", {{"m/config.json", "{}"}, {"m/w.bin", std::string(1000, 'x')}});
  auto r = ExtractArchive(d / "m.zip", ArchiveFormat::kZip, d / "out", {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->files, 2);
  EXPECT_EQ(r->bytes, 1002u);
  EXPECT_EQ(fs::file_size(d / "out" / "m" / "w.bin"), 1000u);
  MakeArchive(d / "t.tar.gz", {{"top/m/config.json", "{}"}, {"top/link", "<symlink>"}}, false);
  auto t = ExtractArchive(d / "t.tar.gz", ArchiveFormat::kTarGz, d / "tout", {});
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_TRUE(fs::exists(d / "tout" / "top" / "m" / "config.json"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(d / "tout" / "top" / "link")));  // links skipped
  fs::remove_all(d);
}

TEST(ArchiveTest, RefusesSlipBombsAndGarbageLeavingNothing) {
  auto d = TempDir("hostile");
  MakeArchive(d / "slip.zip", {{"ok.json", "{}"}, {"../../evil", "x"}});
  auto slip = ExtractArchive(d / "slip.zip", ArchiveFormat::kZip, d / "o1", {});
  ASSERT_FALSE(slip.has_value());
  EXPECT_EQ(slip.error().public_code, "INVALID_FILE");
  EXPECT_FALSE(fs::exists(d / "o1"));
  EXPECT_FALSE(fs::exists(d.parent_path() / "evil"));

  MakeArchive(d / "bomb.zip", {{"zeros", std::string(4 << 20, '\0')}});
  ExtractLimits small;
  small.max_total_bytes = 1 << 20;
  auto bomb = ExtractArchive(d / "bomb.zip", ArchiveFormat::kZip, d / "o2", small);
  ASSERT_FALSE(bomb.has_value());
  EXPECT_EQ(bomb.error().public_code, "PAYLOAD_TOO_LARGE");
  EXPECT_FALSE(fs::exists(d / "o2"));
  // The ratio check stops a highly compressible archive even below the size limit.
  MakeArchive(d / "ratio.zip", {{"zeros", std::string(80 << 20, '\0')}});
  ExtractLimits ratio;
  ratio.max_ratio = 50;
  auto r = ExtractArchive(d / "ratio.zip", ArchiveFormat::kZip, d / "o3", ratio);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("times its size"), std::string::npos) << r.error().message;

  Write(d / "garbage.zip", "this is not a zip");
  auto g = ExtractArchive(d / "garbage.zip", ArchiveFormat::kZip, d / "o4", {});
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().public_code, "INVALID_FILE");
  EXPECT_FALSE(fs::exists(d / "o4"));

  ExtractLimits few;
  few.max_entries = 2;
  MakeArchive(d / "many.zip", {{"a", "1"}, {"b", "2"}, {"c", "3"}});
  auto many = ExtractArchive(d / "many.zip", ArchiveFormat::kZip, d / "o5", few);
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().public_code, "PAYLOAD_TOO_LARGE");
  fs::remove_all(d);
}

}  // namespace
}  // namespace vectorize::models
