#pragma once
// `vectorize tasks ls|show|watch|cancel|retry`: the Tasks API from the command line (SPEC §1,
// docs/cli.md). Talks HTTP only; loads no server config and reads only VZ_URL and VZ_API_KEY
// (the server rejects unknown VECTORIZE_* variables, so the client keeps out of that namespace).
// Thread safety: one TasksCommand per process, used by the main thread.

#include <memory>
#include <optional>
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace vectorize::cli {

// Exit codes scripts can rely on.
inline constexpr int kExitOk = 0;           // done; `watch ID`: the task ended D
inline constexpr int kExitFailed = 1;       // `watch ID`: task F; server 5xx; other errors
inline constexpr int kExitUsage = 2;        // bad flags, 400/422 from the server
inline constexpr int kExitNotFound = 3;     // 404
inline constexpr int kExitConflict = 4;     // 409 (e.g. cancelling a finished task)
inline constexpr int kExitCancelled = 5;    // `watch ID`: the task ended C
inline constexpr int kExitUnreachable = 6;  // cannot connect, or no answer within --timeout

// Exit code for an HTTP status (2xx → 0).
int ExitCodeForHttpStatus(int status);
// Exit code for a task that reached `status` (D → 0, F → 1, C → 5); nullopt while Q or R.
std::optional<int> ExitCodeForTaskStatus(char status);
// One line describing an error body: {"code","message"} or 422 {"detail":[{"loc","msg"}]}.
std::string DescribeErrorBody(int status, std::string_view body);

// Registers the `tasks` subcommand and its children on `root`; the flags live in this object,
// which must outlive root.parse().
class TasksCommand {
 public:
  explicit TasksCommand(CLI::App& root);
  ~TasksCommand();
  TasksCommand(const TasksCommand&) = delete;
  TasksCommand& operator=(const TasksCommand&) = delete;

  // True when the command line chose `tasks` (also when parsing it failed).
  bool parsed() const;
  // For a CLI::ParseError thrown while parsing `tasks ...`: prints it like CLI::App::exit and
  // returns 0 for --help, kExitUsage otherwise.
  int ExitForParseError(CLI::App& root, const CLI::ParseError& e) const;
  // Runs the chosen subcommand; returns the process exit code.
  int Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace vectorize::cli
