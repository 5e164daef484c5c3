// vectorize-model-check DIR: loads the model folder DIR on libtorch and runs a tiny forward
// pass (inference::VerifyLoads). Exit 0 when it loads; else prints why on one line, exit 1.
// The server runs it as a child process for every upload (models::SubprocessLoadCheck), so the
// server itself does not load libtorch for uploads.
#include <cstdio>

#include "inference/verify.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
    return 2;
  }
  // One thread: a one-sequence pass has nothing to spread over a pool, whose worker threads
  // would only add start-up and exit work to this short-lived process.
  auto s = vectorize::inference::VerifyLoads(argv[1], {.threads = 1});
  if (!s) {
    std::fprintf(stdout, "%s\n", s.error().message.c_str());
    return 1;
  }
  return 0;
}
