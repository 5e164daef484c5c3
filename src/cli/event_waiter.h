#pragma once
// What `vectorize tasks watch` waits on between refreshes: a background reader of
// GET /tasks/events (Server-Sent Events) that wakes the watcher as soon as a relevant task event
// arrives, instead of a fixed sleep. When the stream cannot be opened (an older server, a proxy,
// a refused key) or breaks, Failed() turns true and the watcher falls back to polling.
// Plain POSIX sockets; http:// only, like HttpClient.
// Thread safety: Wait/Failed from the watching thread; the reader runs on its own thread.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "cli/http_client.h"

namespace vectorize::cli {

class EventWaiter {
 public:
  // target: "/tasks/events?..." below the base URL. task_id: when not empty, only events about
  // this task wake the watcher.
  EventWaiter(BaseUrl base, std::string api_key, std::string target, std::string task_id);
  ~EventWaiter();
  EventWaiter(const EventWaiter&) = delete;
  EventWaiter& operator=(const EventWaiter&) = delete;

  // Returns true when a relevant event arrived (since the previous call) within `timeout`.
  bool Wait(std::chrono::milliseconds timeout);
  // The stream is not (or no longer) usable.
  bool Failed();
  // Waits until the stream is open (so no change after this point is missed) or failed.
  void WaitOpen(std::chrono::milliseconds timeout);

 private:
  void Run();
  void Finish(bool failed);

  BaseUrl base_;
  std::string api_key_, target_, task_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false, failed_ = false, stopping_ = false, open_ = false;
  int fd_ = -1;  // guarded by mu_ (closed by the destructor to unblock the reader)
  std::thread thread_;
};

}  // namespace vectorize::cli
