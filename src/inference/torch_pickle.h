#pragma once
// Reading a state dict written by Python's torch.save (zip format, torch >= 1.6) without Python.
//
// libtorch 1.13's torch::pickle_load cannot read what transformers saves: model.state_dict() is a
// collections.OrderedDict, which its unpickler turns into None. This reader opens the archive with
// libtorch's PyTorchStreamReader and interprets data.pkl with a small unpickler that knows only
// what a state dict needs (dicts, OrderedDicts, tuples, lists, strings, numbers, storages via
// persistent ids, torch._utils._rebuild_tensor_v2 / _rebuild_parameter). Any other callable is
// never executed; a value built from one is an opaque placeholder, and a state dict entry holding
// one is skipped. Includes torch: src/inference only.
// Thread safety: free function.

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vectorize::inference {

// Returns the tensors of the archive's top-level dict by key (non-tensor values are skipped).
// Errors: kInvalidArgument naming the file when it is not a torch.save zip, its pickle is
// malformed or uses an unsupported opcode, or a tensor lies outside its storage.
[[nodiscard]] Result<std::map<std::string, torch::Tensor>> ReadTorchStateDict(
    const std::filesystem::path& file);

// The unpickler on its own (a test seam): `pickle` is data.pkl; `storage(key)` returns the bytes of
// record data/<key> and throws std::exception when there is none. Errors as ReadTorchStateDict,
// `name` naming the file.
using StorageLoader = std::function<std::string_view(const std::string& key)>;
[[nodiscard]] Result<std::map<std::string, torch::Tensor>> UnpickleStateDict(
    std::string_view pickle, const StorageLoader& storage, const std::string& name);

}  // namespace vectorize::inference
