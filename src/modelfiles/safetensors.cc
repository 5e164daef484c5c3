#include "modelfiles/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <limits>
#include <utility>

namespace vectorize::modelfiles {
namespace {

namespace json = boost::json;

struct DTypeRow {
  std::string_view name;
  DType dtype;
  std::size_t size;
  bool floating;
};

constexpr std::array<DTypeRow, 10> kDTypes{{
    {"F64", DType::kF64, 8, true},
    {"F32", DType::kF32, 4, true},
    {"F16", DType::kF16, 2, true},
    {"BF16", DType::kBF16, 2, true},
    {"I64", DType::kI64, 8, false},
    {"I32", DType::kI32, 4, false},
    {"I16", DType::kI16, 2, false},
    {"I8", DType::kI8, 1, false},
    {"U8", DType::kU8, 1, false},
    {"BOOL", DType::kBool, 1, false},
}};

const DTypeRow& Row(DType dtype) {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row;
  }
  return kDTypes[1];
}

// A JSON number that is a non-negative integer, as uint64.
bool AsUnsigned(const json::value& v, std::uint64_t* out) {
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return true;
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    *out = static_cast<std::uint64_t>(v.get_int64());
    return true;
  }
  return false;
}

Error Bad(const std::filesystem::path& path, const std::string& what) {
  return Error::InvalidArgument(
      fmt::format("{}: invalid safetensors file: {}", path.filename().string(), what));
}

Result<TensorInfo> ParseEntry(const std::string& name, const json::value& v,
                              const std::filesystem::path& path, std::uint64_t data_start) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return Fail(Bad(path, fmt::format("entry '{}' is not an object", name)));
  TensorInfo t;
  t.name = name;
  t.file = path;
  const auto* dtype = obj->if_contains("dtype");
  if (dtype == nullptr || !dtype->is_string()) {
    return Fail(Bad(path, fmt::format("tensor '{}' has no dtype", name)));
  }
  if (!ParseDType(std::string_view(dtype->get_string()), &t.dtype)) {
    return Fail(Bad(path, fmt::format("tensor '{}' has unsupported dtype '{}'", name,
                                      std::string_view(dtype->get_string()))));
  }
  const auto* shape = obj->if_contains("shape");
  if (shape == nullptr || !shape->is_array()) {
    return Fail(Bad(path, fmt::format("tensor '{}' has no shape array", name)));
  }
  std::uint64_t numel = 1;
  for (const auto& d : shape->get_array()) {
    std::uint64_t n = 0;
    if (!AsUnsigned(d, &n) || n > (1ull << 40)) {
      return Fail(Bad(path, fmt::format("tensor '{}' has an invalid dimension", name)));
    }
    t.shape.push_back(static_cast<std::int64_t>(n));
    if (n != 0 && numel > std::numeric_limits<std::uint64_t>::max() / 16 / n) {
      return Fail(Bad(path, fmt::format("tensor '{}' is impossibly large", name)));
    }
    numel *= n;
  }
  const auto* offsets = obj->if_contains("data_offsets");
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  if (offsets == nullptr || !offsets->is_array() || offsets->get_array().size() != 2 ||
      !AsUnsigned(offsets->get_array()[0], &begin) || !AsUnsigned(offsets->get_array()[1], &end) ||
      end < begin) {
    return Fail(Bad(path, fmt::format("tensor '{}' has invalid data_offsets", name)));
  }
  if (end - begin != numel * DTypeSize(t.dtype)) {
    return Fail(Bad(path, fmt::format("tensor '{}' spans {} bytes but its shape and dtype need {}",
                                      name, end - begin, numel * DTypeSize(t.dtype))));
  }
  t.offset = data_start + begin;
  t.size = end - begin;
  return t;
}

}  // namespace

bool ParseDType(std::string_view name, DType* out) {
  for (const auto& row : kDTypes) {
    if (row.name == name) {
      *out = row.dtype;
      return true;
    }
  }
  return false;
}

std::string_view DTypeName(DType dtype) { return Row(dtype).name; }
std::size_t DTypeSize(DType dtype) { return Row(dtype).size; }
bool IsFloating(DType dtype) { return Row(dtype).floating; }

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Result<SafetensorsFile> ParseSafetensorsHeader(std::string_view header_json,
                                               std::uint64_t file_size,
                                               const std::filesystem::path& path) {
  boost::system::error_code ec;
  json::value root = json::parse(header_json, ec);
  if (ec) return Fail(Bad(path, fmt::format("header is not valid JSON ({})", ec.message())));
  const auto* obj = root.if_object();
  if (obj == nullptr) return Fail(Bad(path, "header is not a JSON object"));

  SafetensorsFile file;
  file.path = path;
  file.file_size = file_size;
  file.data_start = 8 + header_json.size();
  for (const auto& [key, value] : *obj) {
    std::string name(key);
    if (name == "__metadata__") {
      const auto* meta = value.if_object();
      if (meta == nullptr) return Fail(Bad(path, "__metadata__ is not an object"));
      for (const auto& [mk, mv] : *meta) {
        if (!mv.is_string()) return Fail(Bad(path, "__metadata__ values must be strings"));
        file.metadata.emplace(std::string(mk), std::string(mv.get_string()));
      }
      continue;
    }
    auto t = ParseEntry(name, value, path, file.data_start);
    if (!t) return Fail(std::move(t.error()));
    file.tensors.push_back(std::move(*t));
  }
  std::sort(file.tensors.begin(), file.tensors.end(), [](const auto& a, const auto& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.size < b.size;
  });
  std::uint64_t expect = file.data_start;
  for (const auto& t : file.tensors) {
    if (t.offset != expect) {
      return Fail(
          Bad(path, fmt::format("tensor '{}' starts at data offset {}, expected {} "
                                "(data must be contiguous without overlap or gap)",
                                t.name, t.offset - file.data_start, expect - file.data_start)));
    }
    expect += t.size;
  }
  if (expect != file_size) {
    return Fail(
        Bad(path,
            expect > file_size
                ? fmt::format("file is truncated: {} bytes, the header needs {}", file_size, expect)
                : fmt::format("file has {} bytes after the last tensor", file_size - expect)));
  }
  return file;
}

Result<SafetensorsFile> ReadSafetensorsHeader(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Fail(Error::NotFound(fmt::format("{}: not found", path.filename().string())));
  if (size < 8) return Fail(Bad(path, fmt::format("file is only {} bytes", size)));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::InvalidArgument(fmt::format("{}: cannot open", path.string())));
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n == 0) return Fail(Bad(path, "header length is 0"));
  if (n > kMaxSafetensorsHeader || n > size - 8) {
    return Fail(
        Bad(path, fmt::format("header length {} does not fit the file ({} bytes)", n, size)));
  }
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  if (!in) return Fail(Bad(path, "cannot read the header"));
  return ParseSafetensorsHeader(header, size, path);
}

}  // namespace vectorize::modelfiles
