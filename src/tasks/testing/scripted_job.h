#pragma once
// A Job for tests and benchmarks whose behaviour is scripted by the task's inputs, so that tests
// exercise the real engine without any feature module:
//   {"ms": 20, "steps": 5}        sleep `ms` per step, report progress after each step
//   {"fail": "permanent"}         end with invalid_argument (→ F at once)
//   {"fail": "transient", "fail_times": 2}   unavailable for the first n attempts (→ retries)
//   {"ignore_cancel": true}       never look at the cancel token (the engine must still end C)
//   {"crash": true}               throw an exception (→ F, internal error)
// Counts runs and the highest concurrency it saw. Thread safety: Run may be called concurrently.

#include <mutex>
#include <set>

#include "tasks/engine.h"

namespace vectorize::tasks::testing {

class ScriptedJob : public Job {
 public:
  Status Run(JobContext& ctx) override;

  int runs() const;
  int max_concurrent() const;
  std::set<int> attempts_seen() const;

 private:
  mutable std::mutex mu_;
  int concurrent_ = 0, max_concurrent_ = 0, runs_ = 0;
  std::set<int> attempts_seen_;
};

}  // namespace vectorize::tasks::testing
