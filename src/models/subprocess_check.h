#pragma once
// A LoadCheck that runs the model's load check in a child process (`vectorize-model-check DIR`,
// which loads libtorch through the inference module) so the server itself never loads libtorch
// for an upload: its start-up
// time and idle memory stay small, and the memory of loading a large model is given back when
// the child exits. The child's last output line is the error shown to the user.
// Thread safety: the returned function may be called from any number of threads.

#include <chrono>
#include <string>

#include "models/model_files.h"

namespace vectorize::models {

// exe: path of the checker. The check fails with invalid_argument (the child's message) when it
// exits non-zero, and with unavailable when it cannot be started, is killed by a signal, or runs
// longer than `timeout` (then it is killed with SIGKILL, so a stuck child never holds the upload
// task for ever).
LoadCheck SubprocessLoadCheck(std::string exe,
                              std::chrono::milliseconds timeout = std::chrono::minutes(10));

}  // namespace vectorize::models
