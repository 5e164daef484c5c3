#include "inference/weights.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>

namespace vectorize::inference {
namespace {

namespace fs = std::filesystem;
using modelfiles::DType;

c10::ScalarType ToScalarType(DType dtype) {
  switch (dtype) {
    case DType::kF64: return torch::kFloat64;
    case DType::kF32: return torch::kFloat32;
    case DType::kF16: return torch::kFloat16;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kI64: return torch::kInt64;
    case DType::kI32: return torch::kInt32;
    case DType::kI16: return torch::kInt16;
    case DType::kI8: return torch::kInt8;
    case DType::kU8: return torch::kUInt8;
    case DType::kBool: return torch::kBool;
  }
  return torch::kFloat32;
}

std::string Shape(c10::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

// A read-only private mapping of one file, unmapped on destruction.
class Mapping {
 public:
  static Result<Mapping> Open(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(Error::InvalidArgument(fmt::format("{}: cannot open", path.string())));
    struct stat st {};
    ::fstat(fd, &st);
    Mapping m;
    m.size_ = static_cast<std::size_t>(st.st_size);
    void* p = m.size_ ? ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    ::close(fd);
    if (p == MAP_FAILED) {
      return Fail(Error::InvalidArgument(fmt::format("{}: cannot map", path.filename().string())));
    }
    ::madvise(p, m.size_, MADV_SEQUENTIAL);
    m.data_ = static_cast<const char*>(p);
    return m;
  }
  Mapping() = default;
  Mapping(Mapping&& o) noexcept { *this = std::move(o); }
  Mapping& operator=(Mapping&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~Mapping() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

Status CheckShape(const std::string& name, const torch::Tensor& param, c10::IntArrayRef shape,
                  const fs::path& file) {
  if (param.sizes() != shape) {
    return Fail(Error::InvalidArgument(
        fmt::format("{}: tensor '{}' has shape {}, the model needs {}", file.filename().string(),
                    name, Shape(shape), Shape(param.sizes()))));
  }
  return {};
}

Status LoadSafetensors(BertModelImpl& model, const modelfiles::ModelDirInfo& info) {
  // Parameters grouped by the shard that holds them, so each shard is mapped once.
  std::map<fs::path, std::vector<std::pair<torch::Tensor, const modelfiles::TensorInfo*>>> by_file;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string name = info.tensor_prefix + item.key();
    auto it = info.tensors.find(name);
    if (it == info.tensors.end()) {
      return Fail(Error::InvalidArgument(fmt::format("tensor '{}' is missing", name)));
    }
    by_file[it->second.file].emplace_back(item.value(), &it->second);
  }
  torch::NoGradGuard no_grad;
  for (const auto& [file, params] : by_file) {
    auto map = Mapping::Open(file);
    if (!map) return Fail(std::move(map.error()));
    for (const auto& [param, t] : params) {
      if (auto s = CheckShape(t->name, param, t->shape, file); !s) return s;
      if (t->offset + t->size > map->size()) {
        return Fail(Error::InvalidArgument(
            fmt::format("{}: tensor '{}' lies beyond the end of the file (changed since it was "
                        "inspected?)",
                        file.filename().string(), t->name)));
      }
      const char* src = map->data() + t->offset;
      const auto dtype = ToScalarType(t->dtype);
      if (dtype == torch::kFloat32 && param.is_contiguous() &&
          param.scalar_type() == torch::kFloat32) {
        std::memcpy(param.data_ptr(), src, t->size);
        continue;
      }
      // Other dtypes: copy the bytes (the data may be unaligned) and let copy_ convert.
      auto raw = torch::empty(t->shape, torch::TensorOptions().dtype(dtype));
      std::memcpy(raw.data_ptr(), src, t->size);
      param.copy_(raw);
    }
  }
  return {};
}

Status LoadBin(BertModelImpl& model, const modelfiles::ModelDirInfo& info) {
  const fs::path& file = info.weight_files.front();
  const std::string fname = file.filename().string();
  std::map<std::string, torch::Tensor> state;
  try {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto value = torch::pickle_load(bytes);
    if (!value.isGenericDict()) {
      return Fail(Error::InvalidArgument(fmt::format("{}: not a state dict", fname)));
    }
    for (const auto& entry : value.toGenericDict()) {
      if (entry.key().isString() && entry.value().isTensor()) {
        state.emplace(entry.key().toStringRef(), entry.value().toTensor());
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return Fail(Error::InvalidArgument(fmt::format(
        "{}: libtorch cannot read this state dict ({}); convert it to safetensors", fname, what)));
  }
  std::string prefix;
  if (!state.contains("embeddings.word_embeddings.weight") &&
      state.contains("bert.embeddings.word_embeddings.weight")) {
    prefix = "bert.";
  }
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    auto it = state.find(prefix + item.key());
    if (it == state.end()) {
      return Fail(Error::InvalidArgument(
          fmt::format("{}: tensor '{}' is missing", fname, prefix + item.key())));
    }
    if (!it->second.is_floating_point()) {
      return Fail(Error::InvalidArgument(
          fmt::format("{}: tensor '{}' is not a float tensor", fname, it->first)));
    }
    if (auto s = CheckShape(it->first, item.value(), it->second.sizes(), file); !s) return s;
    item.value().copy_(it->second);
  }
  return {};
}

}  // namespace

Status LoadBertWeights(BertModelImpl& model, const modelfiles::ModelDirInfo& info) {
  try {
    if (info.weights_format == modelfiles::WeightsFormat::kPytorchBin) {
      return LoadBin(model, info);
    }
    return LoadSafetensors(model, info);
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("loading weights failed: {}", e.what())));
  }
}

}  // namespace vectorize::inference
