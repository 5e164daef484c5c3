// SubprocessLoadCheck against small shell scripts standing in for vectorize-model-check: exit
// codes, the message of the last output line, signals, a missing checker and the time limit.
#include "models/subprocess_check.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace vectorize::models {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SubprocessCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("vz_subcheck_{}_{}", ::getpid(), rd());
    fs::create_directories(dir_ / "model");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A checker script with this body; it receives the model folder as $1.
  std::string Script(const std::string& name, const std::string& body) {
    auto p = dir_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
  Status Run(const LoadCheck& check) { return check(dir_ / "model", modelfiles::ModelDirInfo{}); }

  fs::path dir_;
};

TEST_F(SubprocessCheckTest, ExitZeroPassesAndTheChildGetsTheFolder) {
  auto marker = dir_ / "seen";
  auto s = Run(SubprocessLoadCheck(Script("ok.sh", "echo \"$1\" > " + marker.string())));
  ASSERT_TRUE(s.has_value()) << s.error().message;
  std::ifstream in(marker);
  std::string seen;
  std::getline(in, seen);
  EXPECT_EQ(seen, (dir_ / "model").string());
}

TEST_F(SubprocessCheckTest, NonZeroExitFailsWithTheLastLine) {
  auto s = Run(SubprocessLoadCheck(
      Script("bad.sh", "echo loading...\necho 'tensor x has shape [3] not [4]' >&2\nexit 1")));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message, "tensor x has shape [3] not [4]");
}

TEST_F(SubprocessCheckTest, ASignalIsUnavailable) {
  auto s = Run(SubprocessLoadCheck(Script("killed.sh", "echo about to crash\nkill -SEGV $$")));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("signal 11"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("about to crash"), std::string::npos) << s.error().message;
}

TEST_F(SubprocessCheckTest, AMissingCheckerIsUnavailable) {
  auto s = Run(SubprocessLoadCheck((dir_ / "no-such-checker").string()));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST_F(SubprocessCheckTest, AStuckCheckerIsKilledAtTheTimeLimit) {
  auto pidfile = dir_ / "pid";
  // exec: the script's own process sleeps, so its pid is the child's.
  auto check = SubprocessLoadCheck(
      Script("stuck.sh", "echo $$ > " + pidfile.string() + "\nexec sleep 600"), 300ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto s = Run(check);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("did not finish"), std::string::npos) << s.error().message;
  EXPECT_LT(took, 60s);  // not the child's 600 s
  // The child is gone (killed and reaped): no process with its pid is left.
  std::ifstream in(pidfile);
  pid_t pid = 0;
  in >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_NE(::kill(pid, 0), 0);
}

}  // namespace
}  // namespace vectorize::models
