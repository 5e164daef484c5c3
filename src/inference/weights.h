#pragma once
// Filling a BertModel's parameters from a model folder's weights. Includes torch (via
// bert_model.h): src/inference and src/training only.
// Thread safety: free functions; the model must not be in use while it is loaded.

#include "common/error.h"
#include "inference/bert_model.h"
#include "modelfiles/model_dir.h"

namespace vectorize::inference {

// Copies every parameter of `model` from the folder's weights, converting F16/BF16/F64 to the
// parameter's float32. Safetensors files are memory-mapped and read tensor by tensor (one shard
// mapped at a time), so peak memory is the model plus page cache, never two copies. A .bin is
// read with torch::pickle_load (torch.save zip format); names may carry the "bert." prefix.
// Tensors the model does not use (pooler, position_ids, heads) are ignored.
// Errors: kInvalidArgument naming the file and tensor when one is missing, has another shape or
// cannot be read.
[[nodiscard]] Status LoadBertWeights(BertModelImpl& model, const modelfiles::ModelDirInfo& info);

}  // namespace vectorize::inference
