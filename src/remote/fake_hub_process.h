#pragma once
// Test support: runs tests/fixtures/fake_hub.py (a local Hugging Face Hub + GitHub API) as a
// child process on a free loopback port and controls its fault injection. Test-only; not part
// of vz_remote. Thread safety: one test thread at a time.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "remote/http_client.h"

namespace vectorize::remote::testing {

class FakeHubProcess {
 public:
  // Starts `python fake_hub.py --root root extra_args…` and waits for its "listening on" line.
  [[nodiscard]] static Result<std::unique_ptr<FakeHubProcess>> Start(
      const std::string& python, const std::string& script, const std::filesystem::path& root,
      const std::vector<std::string>& extra_args = {});
  ~FakeHubProcess();

  const std::string& url() const { return url_; }              // HF_ENDPOINT
  const std::string& cdn_url() const { return cdn_url_; }      // the redirect target host
  std::string github_url() const { return url_ + "/github"; }  // GITHUB_API_URL

  // fault: a JSON object as fake_hub.py documents ({"match", "kind", "count", …}).
  [[nodiscard]] Status AddFault(const std::string& fault_json);
  [[nodiscard]] Status ClearFaults();
  // {"requests": [{"server","method","path","range","auth"}]} as JSON text.
  [[nodiscard]] Result<std::string> RequestLog();
  [[nodiscard]] Status ClearLog();

 private:
  FakeHubProcess() = default;
  pid_t pid_ = -1;
  std::string url_, cdn_url_;
  HttpClient http_{HttpOptions{.max_retries = 0}};
};

}  // namespace vectorize::remote::testing
