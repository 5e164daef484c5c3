// HubClient and GitHubClient against the fake Hub/GitHub server (tests/fixtures/fake_hub.py).
#include "remote/hub_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "remote/fake_hub_process.h"
#include "remote/github_client.h"
#include "remote/sha256.h"

namespace vectorize::remote {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  return s;
}

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class RemoteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() / fmt::format("vz_remote_test_{}", ::getpid()));
    fs::remove_all(*root_);
    auto m = *root_ / "models" / "org" / "tiny";
    WriteFile(m / "config.json", R"({"architectures":["BertModel"],"hidden_size":32})");
    WriteFile(m / "tokenizer.json", std::string(R"({"model":{"type":"WordPiece"}})"));
    *weights_ = RandomBytes(3 << 20, 7);
    WriteFile(m / "model.safetensors", *weights_);
    WriteFile(m / "1_Pooling" / "config.json", R"({"pooling_mode_mean_tokens":true})");
    auto d = *root_ / "datasets" / "org" / "qa";
    WriteFile(d / "README.md", "# qa");
    WriteFile(d / "data" / "train.jsonl", R"({"question":"q","positive":"p"})"
                                          "\n");
    WriteFile(d / "data" / "test.jsonl", R"({"question":"q2","positive":"p2"})"
                                         "\n");
    WriteFile(d / "data" / "train.parquet", RandomBytes(5000, 3));
    auto g = *root_ / "github" / "octo" / "models" / "main" / "mini";
    WriteFile(g / "config.json", R"({"architectures":["BertModel"]})");
    WriteFile(g / "model.safetensors", RandomBytes(10000, 9));
    auto hub = testing::FakeHubProcess::Start(VZ_PYTHON, VZ_FAKE_HUB, *root_,
                                              {"--require-token", "s3cret", "--page-size", "2"});
    ASSERT_TRUE(hub.has_value()) << hub.error().message;
    hub_ = hub->release();
  }
  static void TearDownTestSuite() {
    delete hub_;
    fs::remove_all(*root_);
    delete root_;
  }
  void SetUp() override {
    ASSERT_TRUE(hub_->ClearFaults());
    ASSERT_TRUE(hub_->ClearLog());
    dir_ = *root_ /
           ("dl_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }

  static HttpOptions FastRetries() {
    HttpOptions o;
    o.retry_base = std::chrono::milliseconds(10);
    o.retry_max = std::chrono::milliseconds(2000);
    o.max_retries = 3;
    return o;
  }
  json::array Requests() {
    auto log = hub_->RequestLog();
    EXPECT_TRUE(log.has_value());
    return json::parse(*log).as_object().at("requests").as_array();
  }

  static fs::path* root_;
  static testing::FakeHubProcess* hub_;
  static std::string* weights_;
  fs::path dir_;
  HttpClient http_{FastRetries()};
  HubClient hub_client_{http_, hub_->url(), "s3cret"};
};
fs::path* RemoteTest::root_ = nullptr;
testing::FakeHubProcess* RemoteTest::hub_ = nullptr;
std::string* RemoteTest::weights_ = new std::string;

TEST_F(RemoteTest, ModelInfoListsFilesWithSizesAndLfsHashes) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->id, "org/tiny");
  EXPECT_EQ(info->sha.size(), 40u);
  ASSERT_EQ(info->files.size(), 4u);
  const HubFile* weights = nullptr;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = &f;
  ASSERT_NE(weights, nullptr);
  EXPECT_EQ(weights->size, weights_->size());
  EXPECT_EQ(weights->sha256, Sha256Hex(*weights_));
  // The commit sha is a revision too.
  auto by_sha = hub_client_.ModelInfo("org/tiny", info->sha);
  ASSERT_TRUE(by_sha.has_value());
  EXPECT_EQ(by_sha->sha, info->sha);
}

TEST_F(RemoteTest, UnknownRepositoryAndRevisionAreNotFound) {
  auto repo = hub_client_.ModelInfo("org/nope", "main");
  ASSERT_FALSE(repo.has_value());
  EXPECT_EQ(repo.error().code, ErrorCode::kNotFound);
  EXPECT_NE(repo.error().message.find("org/nope"), std::string::npos);
  auto rev = hub_client_.ModelInfo("org/tiny", "v9");
  ASSERT_FALSE(rev.has_value());
  EXPECT_EQ(rev.error().code, ErrorCode::kNotFound);
  EXPECT_NE(rev.error().message.find("revision \"v9\""), std::string::npos) << rev.error().message;
}

TEST_F(RemoteTest, MalformedIdsAreRejectedBeforeAnyRequest) {
  for (std::string bad : {"", "a/b/c", "../x", "org/..", "a b/c", "org/-x", "org/x."}) {
    auto r = hub_client_.ModelInfo(bad, "main");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto r = hub_client_.ModelInfo("org/tiny", "../../etc");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Requests().empty());
}

TEST_F(RemoteTest, WrongTokenIsNotFoundWithHint) {
  HubClient anon(http_, hub_->url(), "");
  auto r = anon.ModelInfo("org/tiny", "main");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("HF_TOKEN"), std::string::npos);
}

TEST_F(RemoteTest, LfsDownloadFollowsRedirectWithoutLeakingTheToken) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  ASSERT_TRUE(hub_->ClearLog());
  std::vector<std::uint64_t> progress;
  DownloadOptions opts;
  opts.progress = [&](std::uint64_t done, std::optional<std::uint64_t>) {
    progress.push_back(done);
  };
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", info->sha, weights, dir_ / "w",
                                    opts);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(ReadFile(dir_ / "w"), *weights_);
  EXPECT_EQ(r->headers.at("x-repo-commit"), info->sha);
  EXPECT_EQ(r->headers.at("x-linked-etag"), fmt::format("\"{}\"", Sha256Hex(*weights_)));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), weights_->size());
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].at("server"), "main");
  EXPECT_TRUE(reqs[0].at("auth").as_bool());
  EXPECT_EQ(reqs[1].at("server"), "cdn");
  EXPECT_FALSE(reqs[1].at("auth").as_bool()) << "Authorization sent to another host";
}

TEST_F(RemoteTest, SmallFileIsVerifiedByGitBlobId) {
  HubFile cfg{
      .path = "config.json", .size = std::nullopt, .sha256 = std::nullopt, .blob_id = std::nullopt};
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  for (const auto& f : info->files)
    if (f.path == "config.json") cfg = f;
  ASSERT_TRUE(cfg.blob_id.has_value());
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", cfg, dir_ / "c");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_NE(ReadFile(dir_ / "c").find("BertModel"), std::string::npos);
  // A wrong blob id is a mismatch and the file is removed.
  cfg.blob_id = std::string(40, '0');
  auto bad = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", cfg, dir_ / "c2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kAborted);
  EXPECT_FALSE(fs::exists(dir_ / "c2"));
}

TEST_F(RemoteTest, RetriesServerErrorsThenSucceeds) {
  ASSERT_TRUE(
      hub_->AddFault(R"({"match":"/api/models/org/tiny","kind":"status","status":503,"count":2})"));
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(Requests().size(), 3u);
}

TEST_F(RemoteTest, RetryAfterIsHonoured) {
  ASSERT_TRUE(hub_->AddFault(
      R"({"match":"/api/models/org/tiny","kind":"status","status":429,"retry_after":1,"count":1})"));
  auto t0 = std::chrono::steady_clock::now();
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(950));
}

TEST_F(RemoteTest, RetriesExhaustedIsUnavailable) {
  ASSERT_TRUE(hub_->AddFault(
      R"({"match":"/api/models/org/tiny","kind":"status","status":502,"count":-1})"));
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(info.error().IsRetryable());
  EXPECT_EQ(Requests().size(), 4u);  // first try + max_retries
}

TEST_F(RemoteTest, DroppedConnectionResumesWithRange) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  ASSERT_TRUE(hub_->AddFault(
      R"({"match":"/cdn/models/org/tiny/model.safetensors","kind":"drop","after_bytes":1000000,"count":1})"));
  ASSERT_TRUE(hub_->ClearLog());
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(ReadFile(dir_ / "w"), *weights_);
  EXPECT_EQ(r->retries, 1);
  bool resumed = false;
  for (const auto& q : Requests())
    if (q.at("server") == "cdn" && q.at("range").is_string() &&
        q.at("range").as_string().starts_with("bytes=") && q.at("range").as_string() != "bytes=0-")
      resumed = true;
  EXPECT_TRUE(resumed) << "the retry did not ask for the missing range";
}

TEST_F(RemoteTest, PartialFileOnDiskIsResumed) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  WriteFile(dir_ / "w", weights_->substr(0, 123456));
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->resumed_from, 123456u);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(ReadFile(dir_ / "w"), *weights_);
  // A complete file on disk: the server answers 416 and nothing is downloaded again.
  auto again =
      hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->resumed_from, weights_->size());
}

TEST_F(RemoteTest, CorruptPartialFileIsCaughtAfterResume) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  std::string prefix = weights_->substr(0, 5000);
  prefix[100] = char(prefix[100] ^ 0x5a);  // a byte damaged on disk before the resume
  WriteFile(dir_ / "w", prefix);
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kAborted);
  EXPECT_FALSE(fs::exists(dir_ / "w"));
}

TEST_F(RemoteTest, CorruptBodyFailsVerificationAndIsDeleted) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  ASSERT_TRUE(hub_->AddFault(R"({"match":"/cdn/","kind":"corrupt","count":1})"));
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kAborted);
  EXPECT_NE(r.error().message.find("sha256"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("model.safetensors"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "w"));
}

TEST_F(RemoteTest, CancelAbortsASlowDownloadPromptly) {
  auto info = hub_client_.ModelInfo("org/tiny", "main");
  ASSERT_TRUE(info.has_value());
  HubFile weights;
  for (const auto& f : info->files)
    if (f.path == "model.safetensors") weights = f;
  ASSERT_TRUE(
      hub_->AddFault(R"({"match":"/cdn/","kind":"slow","bytes_per_sec":100000,"count":1})"));
  std::atomic<bool> cancel{false};
  DownloadOptions opts;
  opts.request.cancelled = [&] { return cancel.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r =
      hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", weights, dir_ / "w", opts);
  auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_LT(took, std::chrono::milliseconds(1500));  // 30 s at that rate if not aborted
}

TEST_F(RemoteTest, MissingFileIsNotFound) {
  HubFile f{.path = "nope.bin", .size = 1, .sha256 = std::nullopt, .blob_id = std::nullopt};
  auto r = hub_client_.DownloadFile(HubRepoKind::kModel, "org/tiny", "main", f, dir_ / "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("nope.bin"), std::string::npos);
}

TEST_F(RemoteTest, DatasetInfoTreeAndDownload) {
  auto info = hub_client_.DatasetInfo("org/qa", "main");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->files.size(), 4u);
  // page size 2: three pages of the tree are followed through Link headers.
  auto tree = hub_client_.DatasetTree("org/qa", "main", "data");
  ASSERT_TRUE(tree.has_value()) << tree.error().message;
  ASSERT_EQ(tree->size(), 3u);
  std::vector<std::string> paths;
  for (const auto& f : *tree) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"data/test.jsonl", "data/train.jsonl",
                                             "data/train.parquet"}));
  EXPECT_TRUE((*tree)[2].sha256.has_value());  // parquet is an LFS file
  auto r = hub_client_.DownloadFile(HubRepoKind::kDataset, "org/qa", info->sha, (*tree)[1],
                                    dir_ / "train.jsonl");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_NE(ReadFile(dir_ / "train.jsonl").find("\"q\""), std::string::npos);
  auto missing = hub_client_.DatasetTree("org/qa", "main", "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(RemoteTest, GitHubRepoRefAndTarball) {
  GitHubClient gh(http_, hub_->github_url(), "s3cret");
  auto repo = gh.GetRepo("octo", "models");
  ASSERT_TRUE(repo.has_value()) << repo.error().message;
  EXPECT_EQ(repo->full_name, "octo/models");
  EXPECT_EQ(repo->default_branch, "main");
  auto sha = gh.ResolveRef("octo", "models", "main");
  ASSERT_TRUE(sha.has_value()) << sha.error().message;
  EXPECT_EQ(sha->size(), 40u);
  auto nope = gh.ResolveRef("octo", "models", "v2");
  ASSERT_FALSE(nope.has_value());
  EXPECT_EQ(nope.error().code, ErrorCode::kNotFound);
  EXPECT_NE(nope.error().message.find("\"v2\""), std::string::npos);
  auto norepo = gh.GetRepo("octo", "nothing");
  ASSERT_FALSE(norepo.has_value());
  EXPECT_EQ(norepo.error().code, ErrorCode::kNotFound);
  auto tree = gh.ListTree("octo", "models", *sha);
  ASSERT_TRUE(tree.has_value()) << tree.error().message;
  EXPECT_FALSE(tree->truncated);
  EXPECT_EQ(tree->files, (std::vector<std::string>{"mini/config.json", "mini/model.safetensors"}));
  EXPECT_EQ(gh.ListTree("octo", "models", std::string(40, 'f')).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(hub_->ClearLog());
  auto tar = gh.DownloadTarball("octo", "models", *sha, dir_ / "repo.tar.gz");
  ASSERT_TRUE(tar.has_value()) << tar.error().message;
  auto bytes = ReadFile(dir_ / "repo.tar.gz");
  ASSERT_GT(bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_FALSE(reqs[1].at("auth").as_bool()) << "GitHub token sent to the download host";
  auto bad = gh.GetRepo("octo", "../etc");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vectorize::remote
