#include "cli/tasks_cli.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cli/event_waiter.h"
#include "cli/http_client.h"
#include "cli/task_view.h"

namespace vectorize::cli {
namespace {

constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  ok (watch ID: the task ended DONE)\n"
    "  1  watch ID: the task ended FAILED; server error (5xx) or any other failure\n"
    "  2  usage error: bad flags, or the server rejected the request (400/422)\n"
    "  3  not found (404): no task with that id\n"
    "  4  conflict (409): e.g. cancelling a finished task, retrying a running one\n"
    "  5  watch ID: the task ended CANCELLED\n"
    "  6  cannot connect to the server, or no answer within --timeout\n"
    "Environment: VZ_URL (default --url), VZ_API_KEY (default --api-key), NO_COLOR.";

// Accepts status letters and names in any case: r, R, running, RUNNING → "R".
std::string NormalizeStatus(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, char> kNames[] = {
      {"QUEUED", 'Q'}, {"RUNNING", 'R'}, {"DONE", 'D'}, {"FAILED", 'F'}, {"CANCELLED", 'C'}};
  for (const auto& [name, code] : kNames) {
    if (s == name) return std::string(1, code);
  }
  return s;  // the server answers 422 for anything else
}

size_t TerminalWidth() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* cols = std::getenv("COLUMNS")) {
    const int n = std::atoi(cols);
    if (n > 0) return static_cast<size_t>(n);
  }
  return 100;
}

bool StdoutIsTty() { return isatty(STDOUT_FILENO) == 1; }

void Print(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void PrintError(std::string_view message) {
  std::fprintf(stderr, "vectorize: %s\n", Truncate(message, 2000).c_str());
}

// Exit code for a client-side failure (no HTTP answer).
int ExitCodeForClientError(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded: return kExitUnreachable;
    case ErrorCode::kInvalidArgument: return kExitUsage;
    default: return kExitFailed;
  }
}

}  // namespace

int ExitCodeForHttpStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  switch (status) {
    case 400:
    case 422: return kExitUsage;
    case 404: return kExitNotFound;
    case 409: return kExitConflict;
    default: return kExitFailed;
  }
}

std::optional<int> ExitCodeForTaskStatus(char status) {
  switch (status) {
    case 'D': return kExitOk;
    case 'F': return kExitFailed;
    case 'C': return kExitCancelled;
    default: return std::nullopt;
  }
}

std::string DescribeErrorBody(int status, std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  std::string what;
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (const auto* detail = o.if_contains("detail"); detail && detail->is_array()) {
      for (const auto& d : detail->as_array()) {
        if (!d.is_object()) continue;
        std::string loc;
        if (const auto* l = d.as_object().if_contains("loc"); l && l->is_array()) {
          for (const auto& part : l->as_array()) {
            if (!loc.empty()) loc += '.';
            loc += part.is_string() ? std::string(part.as_string()) : boost::json::serialize(part);
          }
        }
        std::string msg;
        if (const auto* m = d.as_object().if_contains("msg"); m && m->is_string()) {
          msg = std::string(m->as_string());
        }
        if (!what.empty()) what += "; ";
        what += loc.empty() ? msg : loc + ": " + msg;
      }
    } else if (const auto* m = o.if_contains("message"); m && m->is_string()) {
      what = std::string(m->as_string());
      if (const auto* c = o.if_contains("code"); c && c->is_string()) {
        what += fmt::format(" [{}]", std::string_view(c->as_string()));
      }
    }
  }
  if (what.empty()) what = body.empty() ? "(empty body)" : Truncate(body, 200);
  return fmt::format("HTTP {}: {}", status, Truncate(what, 1000));
}

struct TasksCommand::Flags {
  CLI::App* tasks = nullptr;
  CLI::App *ls = nullptr, *show = nullptr, *watch = nullptr, *cancel = nullptr, *retry = nullptr;

  std::string url;
  std::string api_key;
  double timeout_seconds = 10;
  bool json = false;
  bool wide = false;
  bool no_color = false;
  std::vector<std::string> types, statuses;
  std::string tag;
  std::optional<int> within_hours, limit, offset;
  std::string id;
  std::optional<std::string> reason;
  double interval_seconds = 1;

  // The environment is read in Run, not with CLI11's envname: CLI11 applies an option's
  // environment variable even for subcommands not chosen, and these options share variables.
  void AddConnection(CLI::App* cmd) {
    cmd->add_option("--url", url,
                    "Base URL of the API, optionally with a path prefix (default: VZ_URL, else "
                    "http://127.0.0.1:8000)");
    cmd->add_option("--api-key", api_key,
                    "Sent as 'Authorization: Bearer KEY' (default: VZ_API_KEY)");
    cmd->add_option("--timeout", timeout_seconds, "Seconds to wait for each answer")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
  }
  void AddFilters(CLI::App* cmd) {
    cmd->add_option("--type", types,
                    "Task type (repeatable): model_upload dataset_upload training evaluation "
                    "synthesis");
    cmd->add_option("--status", statuses,
                    "Status (repeatable): Q R D F C, or queued running done failed cancelled");
    cmd->add_option("--tag", tag, "Only tasks with this tag");
    cmd->add_option("--within-hours", within_hours,
                    "Queued and running tasks, and those that ended in the last H hours "
                    "(server default: 1)");
    cmd->add_option("--limit", limit, "At most N tasks, 1-100 (default: every task in the window)");
    cmd->add_option("--offset", offset, "Skip the first N tasks");
    cmd->add_flag("--wide", wide, "Full task ids");
    cmd->add_flag("--no-color", no_color, "No colours (also when NO_COLOR is set)");
  }

  std::string ListTarget() const {
    std::string q;
    auto add = [&](std::string_view key, std::string_view value) {
      q += q.empty() ? '?' : '&';
      q += key;
      q += '=';
      q += EncodePathSegment(value);
    };
    for (const auto& t : types) add("task_type", t);
    for (const auto& s : statuses) add("status", NormalizeStatus(s));
    if (!tag.empty()) add("tag", tag);
    if (within_hours) add("within_hours", std::to_string(*within_hours));
    if (limit) add("limit", std::to_string(*limit));
    if (offset) add("offset", std::to_string(*offset));
    return "/tasks" + q;
  }
  std::string TaskTarget(std::string_view suffix = {}) const {
    return "/tasks/" + EncodePathSegment(id) + std::string(suffix);
  }

  ViewOptions View() const {
    ViewOptions v;
    v.now = NowMicros();
    v.width = TerminalWidth();
    v.wide = wide;
    const char* no_color_env = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    v.color = StdoutIsTty() && !no_color && !(no_color_env && *no_color_env) &&
              !(term && std::string_view(term) == "dumb");
    return v;
  }
};

TasksCommand::TasksCommand(CLI::App& root) : flags_(std::make_unique<Flags>()) {
  auto& f = *flags_;
  f.tasks = root.add_subcommand("tasks",
                                "Background tasks through the HTTP API (a client: "
                                "see docs/cli.md)");
  f.tasks->require_subcommand(1);
  f.tasks->footer(kExitCodeHelp);

  f.ls = f.tasks->add_subcommand("ls", "List tasks, newest first");
  f.AddFilters(f.ls);
  f.ls->add_flag("--json", f.json, "Print the server's JSON unchanged");
  f.AddConnection(f.ls);
  f.ls->footer(kExitCodeHelp);

  f.show = f.tasks->add_subcommand("show", "Show one task: timings, attempts, inputs, result");
  f.show->add_option("id", f.id, "Task id: the UUID, or its last hex digits as `ls` shows them")
      ->required();
  f.show->add_flag("--json", f.json, "Print the server's JSON unchanged");
  f.show->add_flag("--no-color", f.no_color, "No colours (also when NO_COLOR is set)");
  f.AddConnection(f.show);
  f.show->footer(kExitCodeHelp);

  f.watch = f.tasks->add_subcommand(
      "watch",
      "Live view, redrawn every --interval. With an ID: follow that task and exit when it ends "
      "(0 DONE, 1 FAILED, 5 CANCELLED); without: the filtered table until Ctrl-C");
  f.watch->add_option("id", f.id, "Task id to follow: the UUID, or its last hex digits");
  f.AddFilters(f.watch);
  f.watch
      ->add_option("--interval", f.interval_seconds,
                   "Seconds between refreshes while the event stream is unavailable (and "
                   "between redraws on a terminal); changes arrive at once otherwise")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  f.AddConnection(f.watch);
  f.watch->footer(kExitCodeHelp);

  f.cancel = f.tasks->add_subcommand(
      "cancel", "Cancel a task: QUEUED ends at once, RUNNING stops at its next safe point");
  f.cancel->add_option("id", f.id, "Task id: the UUID, or its last hex digits as `ls` shows them")
      ->required();
  f.cancel->add_option("--reason", f.reason, "Why (stored on the task, at most 500 characters)");
  f.cancel->add_flag("--json", f.json, "Print the server's JSON unchanged");
  f.AddConnection(f.cancel);
  f.cancel->footer(kExitCodeHelp);

  f.retry = f.tasks->add_subcommand("retry", "Queue a FAILED or CANCELLED task again");
  f.retry->add_option("id", f.id, "Task id: the UUID, or its last hex digits as `ls` shows them")
      ->required();
  f.retry->add_flag("--json", f.json, "Print the server's JSON unchanged");
  f.AddConnection(f.retry);
  f.retry->footer(kExitCodeHelp);
}

TasksCommand::~TasksCommand() = default;

bool TasksCommand::parsed() const { return flags_->tasks->parsed(); }

int TasksCommand::ExitForParseError(CLI::App& root, const CLI::ParseError& e) const {
  return root.exit(e) == 0 ? kExitOk : kExitUsage;
}

namespace {

// Sends one request; on failure prints why and stores the exit code in `exit_code`.
std::optional<HttpResponse> Call(const HttpClient& client, std::string_view method,
                                 const std::string& target, std::string_view body, int& exit_code) {
  auto res = method == "POST" ? client.Post(target, body) : client.Get(target);
  if (!res) {
    PrintError(res.error().message);
    exit_code = ExitCodeForClientError(res.error());
    return std::nullopt;
  }
  if (res->status < 200 || res->status >= 300) {
    PrintError(DescribeErrorBody(res->status, res->body));
    exit_code = ExitCodeForHttpStatus(res->status);
    return std::nullopt;
  }
  exit_code = kExitOk;
  return std::move(*res);
}

void PrintRaw(const std::string& body) {
  Print(body);
  if (body.empty() || body.back() != '\n') Print("\n");
}

std::optional<boost::json::object> ParseObject(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    PrintError("the server's answer is not a JSON object");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// Short ids as `ls` prints them (the last hex digits) are looked up among the newest tasks.
constexpr int kResolvePages = 20;
constexpr int kResolvePageSize = 100;

bool IsShortId(std::string_view id) {
  return id.size() >= 4 && id.size() < 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(c) != 0; });
}

// The full id of the task whose id ends in `suffix`, from the tasks of the last week (and all
// queued and running ones), newest first; prints why and sets `exit_code` when there is not
// exactly one.
std::optional<std::string> ResolveShortId(const HttpClient& client, std::string suffix,
                                          int& exit_code) {
  for (auto& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> found;
  for (int page = 0; page < kResolvePages; ++page) {
    auto res = Call(client, "GET",
                    fmt::format("/tasks?within_hours=168&limit={}&offset={}", kResolvePageSize,
                                page * kResolvePageSize),
                    {}, exit_code);
    if (!res) return std::nullopt;
    auto list = ParseTaskList(res->body);
    if (!list) {
      PrintError(list.error().message);
      exit_code = kExitFailed;
      return std::nullopt;
    }
    for (const auto& t : *list) {
      if (t.id.size() >= suffix.size() &&
          t.id.compare(t.id.size() - suffix.size(), suffix.size(), suffix) == 0) {
        found.push_back(t.id);
      }
    }
    if (list->size() < static_cast<size_t>(kResolvePageSize)) break;
  }
  if (found.size() == 1) return found.front();
  if (found.empty()) {
    PrintError(
        fmt::format("no recent task id ends in '{}'; give the full id (tasks ls --wide)", suffix));
    exit_code = kExitNotFound;
  } else {
    PrintError(fmt::format("'{}' is ambiguous ({} tasks); give more digits or the full id", suffix,
                           found.size()));
    exit_code = kExitUsage;
  }
  return std::nullopt;
}

constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";

}  // namespace

int TasksCommand::Run() {
  auto& f = *flags_;
  // `vectorize` blocks these for its server's sigwait; a client wants Ctrl-C to end it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  HttpClientOptions options;
  const char* env_url = std::getenv("VZ_URL");
  const char* env_key = std::getenv("VZ_API_KEY");
  if (!f.url.empty()) {
    options.base_url = f.url;
  } else if (env_url && *env_url) {
    options.base_url = env_url;
  }
  options.api_key = !f.api_key.empty() ? f.api_key : (env_key ? env_key : "");
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(f.timeout_seconds * 1000));
  auto client = HttpClient::Create(options);
  if (!client) {
    PrintError(client.error().message);
    return kExitUsage;
  }
  int code = kExitOk;
  if (IsShortId(f.id)) {
    auto full = ResolveShortId(*client, f.id, code);
    if (!full) return code;
    f.id = *full;
  }

  if (f.ls->parsed()) {
    auto res = Call(*client, "GET", f.ListTarget(), {}, code);
    if (!res) return code;
    if (f.json) {
      PrintRaw(res->body);
      return kExitOk;
    }
    auto list = ParseTaskList(res->body);
    if (!list) {
      PrintError(list.error().message);
      return kExitFailed;
    }
    Print(FormatTaskTable(*list, f.View()));
    return kExitOk;
  }

  if (f.show->parsed()) {
    auto res = Call(*client, "GET", f.TaskTarget(), {}, code);
    if (!res) return code;
    if (f.json) {
      PrintRaw(res->body);
      return kExitOk;
    }
    auto o = ParseObject(res->body);
    if (!o) return kExitFailed;
    Print(FormatTaskDetail(*o, f.View()));
    return kExitOk;
  }

  if (f.cancel->parsed()) {
    std::string body;
    if (f.reason) body = boost::json::serialize(boost::json::object{{"reason", *f.reason}});
    auto res = Call(*client, "POST", f.TaskTarget("/cancel"), body, code);
    if (!res) return code;
    if (f.json) {
      PrintRaw(res->body);
    } else if (res->status == 202) {
      Print(fmt::format("cancel requested {}: the task stops at its next safe point\n", f.id));
    } else {
      Print(fmt::format("cancelled {}\n", f.id));
    }
    return kExitOk;
  }

  if (f.retry->parsed()) {
    auto res = Call(*client, "POST", f.TaskTarget("/retry"), {}, code);
    if (!res) return code;
    if (f.json) {
      PrintRaw(res->body);
    } else {
      Print(fmt::format("queued again {}\n", f.id));
    }
    return kExitOk;
  }

  // watch: refreshes when the event stream says something changed (at once), or every
  // --interval while the stream is unusable (polling); a terminal view also redraws every
  // --interval for its relative times.
  const bool tty = StdoutIsTty();
  const auto interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(f.interval_seconds * 1000));
  std::string events_target = f.ListTarget();
  if (!f.id.empty()) events_target.clear();  // the one task, whatever the filters
  EventWaiter events(client->base(), options.api_key, "/tasks/events" + events_target, f.id);
  events.WaitOpen(std::chrono::milliseconds(2'000));
  std::string last;  // what a non-tty view printed last: it prints changes only
  while (true) {
    auto view = f.View();
    view.bars = true;
    std::string frame, key;  // key: what decides whether a non-tty view prints again
    std::optional<int> finished;
    if (!f.id.empty()) {
      auto res = Call(*client, "GET", f.TaskTarget(), {}, code);
      if (!res) return code;
      auto o = ParseObject(res->body);
      if (!o) return kExitFailed;
      auto task = ParseTask(*o);
      if (!task) {
        PrintError(task.error().message);
        return kExitFailed;
      }
      finished = ExitCodeForTaskStatus(task->status);
      if (tty) {
        frame =
            fmt::format("Every {}s: task {}   (Ctrl-C to stop)\n\n", f.interval_seconds, task->id) +
            FormatTaskDetail(*o, view);
      } else {
        std::string line = fmt::format("{} {}", task->id, StatusName(task->status));
        if (task->status == 'R' && task->progress) line += " " + FormatPercent(*task->progress);
        if (task->status == 'F' && task->error_msg) line += " error: " + *task->error_msg;
        if (task->status == 'R' && task->progress_msg) line += " " + *task->progress_msg;
        frame = Truncate(line, 1000) + "\n";
      }
      key = frame;
    } else {
      auto res = Call(*client, "GET", f.ListTarget(), {}, code);
      if (!res) return code;
      auto list = ParseTaskList(res->body);
      if (!list) {
        PrintError(list.error().message);
        return kExitFailed;
      }
      frame = FormatTaskTable(*list, view);
      key = res->body;  // the table's relative times change every second; the tasks may not
      if (tty) {
        frame = fmt::format("Every {}s: {}   (Ctrl-C to stop)\n\n", f.interval_seconds,
                            f.ListTarget()) +
                frame;
      }
    }
    if (tty) {
      Print(std::string(kClearScreen) + frame);
    } else if (key != last) {
      // Without a terminal, print a frame only when it changed; tables get a time line so
      // that a log of them reads well.
      Print(f.id.empty() ? fmt::format("-- {}\n{}", FormatRfc3339(NowMicros()), frame) : frame);
      last = key;
    }
    if (finished) return *finished;
    if (events.Failed()) {
      std::this_thread::sleep_for(interval);
    } else {
      // Without a terminal nothing changes unless a task does; still look now and then.
      events.Wait(tty ? interval : std::max(interval, std::chrono::milliseconds(15'000)));
    }
  }
}

}  // namespace vectorize::cli
