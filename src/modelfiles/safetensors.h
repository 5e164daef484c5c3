#pragma once
// Reading and checking safetensors headers, without torch.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"k": "v"}}, then the tensor data; offsets are relative to the data start.
// Thread safety: free functions, no shared state.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vectorize::modelfiles {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// "F32" → kF32 etc.; false if the name is unknown.
bool ParseDType(std::string_view name, DType* out);
std::string_view DTypeName(DType dtype);
std::size_t DTypeSize(DType dtype);
bool IsFloating(DType dtype);

// One tensor of one safetensors file. `offset` is absolute in `file`.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::filesystem::path file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;  // bytes

  [[nodiscard]] std::int64_t numel() const;
};

struct SafetensorsFile {
  std::filesystem::path path;
  std::uint64_t file_size = 0;
  std::uint64_t data_start = 0;     // 8 + header length
  std::vector<TensorInfo> tensors;  // in data order
  std::map<std::string, std::string> metadata;
};

// Hard cap on a header's size, so a hostile length cannot make us allocate gigabytes.
inline constexpr std::uint64_t kMaxSafetensorsHeader = 100ull << 20;

// Reads only the header and checks it against the file: valid JSON object, known dtypes,
// non-negative shapes, byte ranges equal to numel × dtype size, ranges contiguous from 0 with no
// overlap or gap, and the file exactly as long as the last range. Errors (kInvalidArgument, or
// kNotFound if the file is missing) name the file and the problem.
[[nodiscard]] Result<SafetensorsFile> ReadSafetensorsHeader(const std::filesystem::path& path);

// Same checks on a header already in memory (tests, and readers of streamed files).
// `file_size` is the total file size the header must describe.
[[nodiscard]] Result<SafetensorsFile> ParseSafetensorsHeader(std::string_view header_json,
                                                             std::uint64_t file_size,
                                                             const std::filesystem::path& path);

}  // namespace vectorize::modelfiles
