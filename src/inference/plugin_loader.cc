// Finds and loads libvectorize_inference.so (plugin.h); the torch-free side of Encoder::Load.
#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "inference/plugin.h"

#ifndef VZ_INFERENCE_MODULE_BUILD_PATH
#define VZ_INFERENCE_MODULE_BUILD_PATH ""
#endif

namespace vectorize::inference {
namespace {

constexpr const char* kModuleName = "libvectorize_inference.so";

std::vector<std::filesystem::path> Candidates() {
  std::vector<std::filesystem::path> out;
  if (const char* env = std::getenv("VZ_INFERENCE_MODULE"); env && *env) out.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(exe.parent_path() / kModuleName);
    out.push_back(exe.parent_path().parent_path() / "lib" / "vectorize" / kModuleName);
  }
  if (*VZ_INFERENCE_MODULE_BUILD_PATH) out.emplace_back(VZ_INFERENCE_MODULE_BUILD_PATH);
  return out;
}

Result<const PluginApi*> LoadOnce() {
  std::string tried;
  for (const auto& path : Candidates()) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      tried += fmt::format("{}{} (absent)", tried.empty() ? "" : ", ", path.string());
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      tried += fmt::format("{}{} ({})", tried.empty() ? "" : ", ", path.string(), dlerror());
      continue;
    }
    using Entry = const PluginApi* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "vz_inference_plugin"));
    if (entry == nullptr) {
      return Fail(Error::Unavailable(fmt::format(
          "{} has no vz_inference_plugin symbol: it is not Vectorize's inference module",
          path.string())));
    }
    const PluginApi* api = entry();
    if (api == nullptr || api->abi_version != kPluginAbiVersion) {
      return Fail(Error::Unavailable(fmt::format(
          "{} was built for another version of vectorize (module ABI {}, this binary {})",
          path.string(), api ? api->abi_version : -1, kPluginAbiVersion)));
    }
    const auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("loaded the inference module {} in {:.0f} ms", path.string(), ms);
    return api;  // never unloaded: encoders and their vtables live in it
  }
  return Fail(Error::Unavailable(
      fmt::format("the inference module (libtorch) could not be loaded; tried {}", tried)));
}

}  // namespace

Result<const PluginApi*> Plugin() {
  static std::once_flag once;
  static Result<const PluginApi*> loaded = Fail(Error::Internal("not loaded"));
  std::call_once(once, [] { loaded = LoadOnce(); });
  return loaded;
}

Result<std::unique_ptr<Encoder>> Encoder::Load(const modelfiles::ModelDirInfo& info,
                                               const EncoderOptions& options) {
  auto api = Plugin();
  if (!api) return Fail(api.error());
  return (*api)->load_encoder(info, options);
}

Result<std::unique_ptr<Encoder>> Encoder::LoadDir(const std::filesystem::path& dir,
                                                  const EncoderOptions& options) {
  auto info = modelfiles::InspectModelDir(dir);
  if (!info) return Fail(std::move(info.error()));
  return Load(*info, options);
}

}  // namespace vectorize::inference
