#include "models/subprocess_check.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

extern char** environ;

namespace vectorize::models {

LoadCheck SubprocessLoadCheck(std::string exe, std::chrono::milliseconds timeout) {
  return
      [exe, timeout](const std::filesystem::path& dir, const modelfiles::ModelDirInfo&) -> Status {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return Fail(Error::Unavailable("pipe failed"));
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
        std::string arg0 = exe, arg1 = dir.string();
        char* argv[] = {arg0.data(), arg1.data(), nullptr};
        pid_t pid = -1;
        int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        if (rc != 0) {
          close(fds[0]);
          return Fail(Error::Unavailable(
              fmt::format("cannot run the model load check {}: {}", exe, std::strerror(rc))));
        }
        // Read the child's output until it closes the pipe (it exits) or the deadline passes.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string out;
        char buf[4096];
        bool timed_out = false;
        while (true) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left.count() <= 0) {
            timed_out = true;
            break;
          }
          pollfd p{.fd = fds[0], .events = POLLIN, .revents = 0};
          int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
          if (ready < 0 && errno == EINTR) continue;
          if (ready < 0) break;
          if (ready == 0) continue;
          ssize_t n = read(fds[0], buf, sizeof buf);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          if (out.size() < 64 * 1024) out.append(buf, std::size_t(n));
        }
        close(fds[0]);
        if (timed_out) kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (timed_out) {
          return Fail(Error::Unavailable(
              fmt::format("the model load check did not finish within {} s and was stopped",
                          std::chrono::duration_cast<std::chrono::seconds>(timeout).count())));
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        auto nl = out.rfind('\n');
        std::string last = nl == std::string::npos ? out : out.substr(nl + 1);
        if (WIFSIGNALED(status))
          return Fail(
              Error::Unavailable(fmt::format("the model load check was killed by signal {}{}",
                                             WTERMSIG(status), last.empty() ? "" : ": " + last)));
        return Fail(Error::InvalidArgument(last.empty() ? "the model does not load" : last));
      };
}

}  // namespace vectorize::models
