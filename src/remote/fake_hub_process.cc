#include "remote/fake_hub_process.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace vectorize::remote::testing {

Result<std::unique_ptr<FakeHubProcess>> FakeHubProcess::Start(
    const std::string& python, const std::string& script, const std::filesystem::path& root,
    const std::vector<std::string>& extra_args) {
  int fds[2];
  if (pipe(fds) != 0) return Fail(Error::Internal("pipe failed"));
  std::vector<std::string> args = {python, script, "--root", root.string(), "--port", "0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_t pid = fork();
  if (pid < 0) return Fail(Error::Internal("fork failed"));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::unique_ptr<FakeHubProcess> p(new FakeHubProcess());
  p->pid_ = pid;
  FILE* out = fdopen(fds[0], "r");
  char line[512] = {0};
  bool got = out && std::fgets(line, sizeof line, out) != nullptr;
  if (out) std::fclose(out);  // the server prints nothing more
  if (!got) return Fail(Error::Internal("fake hub did not start"));
  char url[256] = {0}, cdn[256] = {0};
  if (std::sscanf(line, "listening on %255s cdn %255s", url, cdn) != 2)
    return Fail(Error::Internal(std::string("unexpected fake hub output: ") + line));
  p->url_ = url;
  p->cdn_url_ = cdn;
  return p;
}

FakeHubProcess::~FakeHubProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
}

Status FakeHubProcess::AddFault(const std::string& fault_json) {
  auto r = http_.Send("POST", url_ + "/_control/faults", fault_json);
  if (!r) return Fail(r.error());
  if (r->status != 200) return Fail(Error::Internal("fault rejected: " + r->body));
  return {};
}

Status FakeHubProcess::ClearFaults() {
  auto r = http_.Send("DELETE", url_ + "/_control/faults", "");
  if (!r) return Fail(r.error());
  return {};
}

Result<std::string> FakeHubProcess::RequestLog() {
  auto r = http_.Send("GET", url_ + "/_control/log", "");
  if (!r) return Fail(r.error());
  return r->body;
}

Status FakeHubProcess::ClearLog() {
  auto r = http_.Send("DELETE", url_ + "/_control/log", "");
  if (!r) return Fail(r.error());
  return {};
}

}  // namespace vectorize::remote::testing
