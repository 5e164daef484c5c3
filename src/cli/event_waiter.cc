#include "cli/event_waiter.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace vectorize::cli {

EventWaiter::EventWaiter(BaseUrl base, std::string api_key, std::string target, std::string task_id)
    : base_(std::move(base)),
      api_key_(std::move(api_key)),
      target_(std::move(target)),
      task_id_(std::move(task_id)) {
  thread_ = std::thread([this] { Run(); });
}

EventWaiter::~EventWaiter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // unblocks the reader's recv
  }
  if (thread_.joinable()) thread_.join();
}

bool EventWaiter::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return pending_ || failed_; });
  const bool got = pending_;
  pending_ = false;
  return got;
}

void EventWaiter::WaitOpen(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return open_ || failed_; });
}

bool EventWaiter::Failed() {
  std::lock_guard lock(mu_);
  return failed_;
}

void EventWaiter::Finish(bool failed) {
  std::lock_guard lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  failed_ = failed_ || failed;
  cv_.notify_all();
}

void EventWaiter::Run() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(base_.host.c_str(), base_.port.c_str(), &hints, &res) != 0 || !res) {
    return Finish(true);
  }
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return Finish(true);
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    fd_ = fd;
  }
  std::string req = "GET " + base_.prefix + target_ + " HTTP/1.1\r\nHost: " + base_.host + ":" +
                    base_.port + "\r\nAccept: text/event-stream\r\nUser-Agent: vectorize-cli\r\n";
  if (!api_key_.empty()) req += "Authorization: Bearer " + api_key_ + "\r\n";
  req += "\r\n";
  for (std::size_t sent = 0; sent < req.size();) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return Finish(true);
    sent += static_cast<std::size_t>(n);
  }
  std::string buf;
  bool head_done = false;
  std::string event;  // the current event's type
  char chunk[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return Finish(true);  // the stream ended: poll from now on
    buf.append(chunk, static_cast<std::size_t>(n));
    if (!head_done) {
      const auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buf.size() > 64 * 1024) return Finish(true);
        continue;
      }
      const std::string_view status_line = std::string_view(buf).substr(0, buf.find("\r\n"));
      const std::string_view head = std::string_view(buf).substr(0, end);
      if (status_line.find(" 200") == std::string_view::npos ||
          head.find("text/event-stream") == std::string_view::npos) {
        return Finish(true);
      }
      buf.erase(0, end + 4);
      head_done = true;
      {
        std::lock_guard lock(mu_);
        open_ = true;
        cv_.notify_all();
      }
    }
    for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      std::string_view line = std::string_view(buf).substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      bool wake = false;
      if (line.starts_with("event:")) {
        event = std::string(line.substr(line.find_first_not_of(' ', 6) == std::string_view::npos
                                            ? line.size()
                                            : line.find_first_not_of(' ', 6)));
      } else if (line.starts_with("data:")) {
        // A reload (missed changes) always wakes; a task event when it is about our task.
        wake = event == "reload" ||
               (event == "task" && (task_id_.empty() || line.find(task_id_) != line.npos));
      } else if (line.empty()) {
        event.clear();
      }
      buf.erase(0, nl + 1);
      if (wake) {
        std::lock_guard lock(mu_);
        pending_ = true;
        cv_.notify_all();
      }
    }
  }
}

}  // namespace vectorize::cli
