#pragma once
// A fixed set of threads that run the parts of forward passes side by side (batch_plan.h).
// Torch-free: the thread set-up (one intra-op thread per worker) comes in as a callback.
//
// Thread safety: Run may be called from several threads at once; their parts share the workers
// (first come, first served) and each call still returns only when its own parts are done.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vectorize::inference {

class WorkPool {
 public:
  // `threads` counts the caller: threads - 1 workers are started, each running `init` first.
  WorkPool(int threads, std::function<void()> init);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Threads one Run can use at once (workers + the caller).
  [[nodiscard]] int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(0) … fn(n - 1): part 0 on the calling thread, the others on the workers (or on the
  // caller too, when every worker is busy with other calls' parts). Returns when all n are done;
  // rethrows the first exception any part threw.
  void Run(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  struct Call;
  struct Job {
    Call* call;
    std::size_t index;
  };
  void Work();
  static std::exception_ptr Execute(const Job& job);
  void Done(Call* call, std::exception_ptr error);

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vectorize::inference
