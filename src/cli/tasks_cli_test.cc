#include "cli/tasks_cli.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

namespace vectorize::cli {
namespace {

TEST(ExitCodes, FromHttpStatus) {
  EXPECT_EQ(ExitCodeForHttpStatus(200), kExitOk);
  EXPECT_EQ(ExitCodeForHttpStatus(202), kExitOk);
  EXPECT_EQ(ExitCodeForHttpStatus(400), kExitUsage);
  EXPECT_EQ(ExitCodeForHttpStatus(422), kExitUsage);
  EXPECT_EQ(ExitCodeForHttpStatus(404), kExitNotFound);
  EXPECT_EQ(ExitCodeForHttpStatus(409), kExitConflict);
  EXPECT_EQ(ExitCodeForHttpStatus(500), kExitFailed);
  EXPECT_EQ(ExitCodeForHttpStatus(503), kExitFailed);
  EXPECT_EQ(ExitCodeForHttpStatus(401), kExitFailed);
}

TEST(ExitCodes, FromTaskStatus) {
  EXPECT_EQ(ExitCodeForTaskStatus('D'), 0);
  EXPECT_EQ(ExitCodeForTaskStatus('F'), 1);
  EXPECT_EQ(ExitCodeForTaskStatus('C'), 5);
  EXPECT_FALSE(ExitCodeForTaskStatus('Q').has_value());
  EXPECT_FALSE(ExitCodeForTaskStatus('R').has_value());
}

TEST(ExitCodes, DistinctValues) {
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitNotFound, 3);
  EXPECT_EQ(kExitConflict, 4);
  EXPECT_EQ(kExitCancelled, 5);
  EXPECT_EQ(kExitUnreachable, 6);
}

TEST(DescribeErrorBody, Shapes) {
  EXPECT_EQ(DescribeErrorBody(404, R"({"code":"NOT_FOUND","message":"task x not found"})"),
            "HTTP 404: task x not found [NOT_FOUND]");
  EXPECT_EQ(
      DescribeErrorBody(422,
                        R"({"detail":[{"loc":["query","limit"],"msg":"must be 1-100","type":"x"},
                              {"loc":["path","id"],"msg":"must be a UUID","type":"y"}]})"),
      "HTTP 422: query.limit: must be 1-100; path.id: must be a UUID");
  EXPECT_EQ(DescribeErrorBody(502, "Bad Gateway"), "HTTP 502: Bad Gateway");
  EXPECT_EQ(DescribeErrorBody(500, ""), "HTTP 500: (empty body)");
}

int ParseExit(std::vector<std::string> args) {
  CLI::App root{"test"};
  TasksCommand tasks(root);
  std::reverse(args.begin(), args.end());
  try {
    root.parse(args);
  } catch (const CLI::ParseError& e) {
    EXPECT_TRUE(tasks.parsed());
    return tasks.ExitForParseError(root, e);
  }
  return -1;  // parsed fine
}

TEST(TasksCommand, BadFlagsAreUsageErrors) {
  EXPECT_EQ(ParseExit({"tasks", "ls", "--limit", "abc"}), kExitUsage);
  EXPECT_EQ(ParseExit({"tasks", "show"}), kExitUsage);
  EXPECT_EQ(ParseExit({"tasks", "ls", "--bogus"}), kExitUsage);
  EXPECT_EQ(ParseExit({"tasks", "watch", "--interval", "0"}), kExitUsage);
  EXPECT_EQ(ParseExit({"tasks", "ls", "--timeout", "-1"}), kExitUsage);
  EXPECT_EQ(ParseExit({"tasks", "ls", "--help"}), kExitOk);
  EXPECT_EQ(ParseExit({"tasks", "ls", "--type", "training", "--status", "R", "--json"}), -1);
}

TEST(TasksCommand, BadUrlIsUsageError) {
  CLI::App root{"test"};
  TasksCommand tasks(root);
  root.parse(std::vector<std::string>{"https://example.com", "--url", "ls", "tasks"});
  EXPECT_EQ(tasks.Run(), kExitUsage);
}

TEST(TasksCommand, NothingListeningIsExit6) {
  CLI::App root{"test"};
  TasksCommand tasks(root);
  // Port 1 on loopback: nothing listens there in a test environment.
  root.parse(std::vector<std::string>{"http://127.0.0.1:1", "--url", "ls", "tasks"});
  EXPECT_EQ(tasks.Run(), kExitUnreachable);
}

}  // namespace
}  // namespace vectorize::cli
