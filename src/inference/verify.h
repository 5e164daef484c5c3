#pragma once
// The load check of model uploads: a model is registered only if this passes (SPEC §3.2).
// No torch types here. Thread safety: free function.

#include <filesystem>

#include "common/error.h"
#include "inference/encoder.h"

namespace vectorize::inference {

// Inspects the folder (modelfiles::InspectModelDir), loads the weights into the encoder and runs a
// tiny forward pass ([CLS] [SEP]), checking the output has the model's dimension and is finite.
// Errors: those of InspectModelDir and Encoder::Load, or kInvalidArgument when the forward pass
// yields NaN/Inf (broken weights). Cost: about one model load (seconds for large models).
// `options` as for Encoder::LoadDir (their thread count sizes the process's inference pool).
[[nodiscard]] Status VerifyLoads(const std::filesystem::path& dir,
                                 const EncoderOptions& options = {});

}  // namespace vectorize::inference
