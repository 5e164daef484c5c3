#pragma once
// The boundary between the torch-free code base and the libtorch code, which lives in a module
// of its own (libvectorize_inference.so) loaded with dlopen on first use. A process that never
// embeds, trains or checks a model never maps libtorch: `vectorize serve` starts in milliseconds
// at ~10 MB RSS instead of ~0.5 s and ~160 MB (measured with a hello-world linked to libtorch).
//
// Search order for the module: $VZ_INFERENCE_MODULE (a path; for tests and packaging), the
// executable's directory, <exe dir>/../lib/vectorize/, then the build tree it was built in.
// No torch types here.

#include <memory>

#include "common/error.h"
#include "inference/encoder.h"
#include "modelfiles/model_dir.h"

namespace vectorize::inference {

inline constexpr int kPluginAbiVersion = 1;

// What the module exports (by the C symbol vz_inference_plugin). Same compiler and standard
// library on both sides: the module is built with the binary, never distributed apart from it.
struct PluginApi {
  int abi_version;
  Result<std::unique_ptr<Encoder>> (*load_encoder)(const modelfiles::ModelDirInfo& info,
                                                   const EncoderOptions& options);
};

// The module's api, loading it on first call (thread-safe). Errors: unavailable with the paths
// tried and dlerror()'s reason when the module cannot be found or loaded.
[[nodiscard]] Result<const PluginApi*> Plugin();

// Implemented in the module (torch_bert_encoder.cc).
Result<std::unique_ptr<Encoder>> LoadTorchEncoder(const modelfiles::ModelDirInfo& info,
                                                  const EncoderOptions& options);

}  // namespace vectorize::inference

extern "C" const vectorize::inference::PluginApi* vz_inference_plugin();
