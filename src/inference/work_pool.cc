#include "inference/work_pool.h"

#include <algorithm>
#include <exception>

namespace vectorize::inference {

struct WorkPool::Call {
  const std::function<void(std::size_t)>* fn;
  std::size_t remaining;
  std::exception_ptr error;
  std::condition_variable done;
};

WorkPool::WorkPool(int threads, std::function<void()> init) {
  for (int i = 1; i < threads; ++i) {
    workers_.emplace_back([this, init] {
      if (init) init();
      Work();
    });
  }
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

std::exception_ptr WorkPool::Execute(const Job& job) {
  try {
    (*job.call->fn)(job.index);
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

// REQUIRES: mu_ held.
void WorkPool::Done(Call* call, std::exception_ptr error) {
  if (error && !call->error) call->error = std::move(error);
  if (--call->remaining == 0) call->done.notify_all();
}

void WorkPool::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    Job job = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    auto error = Execute(job);
    lock.lock();
    Done(job.call, std::move(error));
  }
}

void WorkPool::Run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  Call call{.fn = &fn, .remaining = n, .error = nullptr, .done = {}};
  if (n > 1) {
    std::lock_guard lock(mu_);
    for (std::size_t i = 1; i < n; ++i) jobs_.push_back({&call, i});
  }
  if (n > 2) {
    wake_.notify_all();
  } else if (n == 2) {
    wake_.notify_one();
  }
  // The caller runs part 0, then any of its own parts no worker has taken yet.
  auto error = Execute({&call, 0});
  std::unique_lock lock(mu_);
  Done(&call, std::move(error));
  while (call.remaining > 0) {
    auto mine =
        std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.call == &call; });
    if (mine == jobs_.end()) {
      call.done.wait(lock, [&] { return call.remaining == 0; });
      break;
    }
    Job job = *mine;
    jobs_.erase(mine);
    lock.unlock();
    error = Execute(job);
    lock.lock();
    Done(&call, std::move(error));
  }
  if (call.error) std::rethrow_exception(call.error);
}

}  // namespace vectorize::inference
