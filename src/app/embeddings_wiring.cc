#include "app/embeddings_wiring.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace vectorize::app {

namespace {

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 200 || tag == "." || tag == "..") return false;
  for (char c : tag) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The encoder plugin (encoder_plugin.cc, built as libvectorize_encoder.so beside the binary) is
// loaded on the first model load, so that libtorch — 2 s of start-up and tens of MB — is only
// paid by a process that embeds: the CLI and an idle server start without it.
using LoaderFactory = void* (*)(int);

Result<embeddings::ModelLoader> LoadEncoderPlugin(int intra_op_threads) {
  std::vector<std::string> candidates;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((exe.parent_path() / kEncoderPluginName).string());
  candidates.emplace_back(kEncoderPluginName);  // the dynamic linker's search path
  std::string errors;
  for (const std::string& path : candidates) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      errors += fmt::format("; {}", e != nullptr ? e : path);
      continue;
    }
    // Never closed: models and their vtables live in it until the process ends.
    auto factory = reinterpret_cast<LoaderFactory>(dlsym(handle, "vz_encoder_loader_create"));
    if (factory == nullptr) return Fail(Error::Internal(path + " has no loader factory"));
    std::unique_ptr<embeddings::ModelLoader> loader(
        static_cast<embeddings::ModelLoader*>(factory(intra_op_threads)));
    spdlog::info("embeddings: inference module {} loaded", path);
    return std::move(*loader);
  }
  return Fail(Error::Unavailable("cannot load the inference module" + errors));
}

}  // namespace

embeddings::ModelLoader EncoderModelLoader(int intra_op_threads) {
  struct State {
    std::mutex mu;
    embeddings::ModelLoader loader;
  };
  auto state = std::make_shared<State>();
  return
      [state, intra_op_threads](
          const embeddings::ModelRef& ref) -> Result<std::shared_ptr<embeddings::EmbeddingModel>> {
        embeddings::ModelLoader loader;
        {
          std::lock_guard lock(state->mu);
          if (!state->loader) {
            auto loaded = LoadEncoderPlugin(intra_op_threads);
            if (!loaded) return Fail(loaded.error());
            state->loader = std::move(*loaded);
          }
          loader = state->loader;
        }
        return loader(ref);
      };
}

embeddings::ModelLookup ModelFolderLookup(std::filesystem::path models_dir) {
  return [models_dir](std::string_view tag) -> Result<embeddings::ModelRef> {
    auto not_found = [&] {
      return Fail(Error::NotFound(
          fmt::format("Model with tag {} not found", std::string(tag.substr(0, 200)))));
    };
    if (!ValidTag(tag)) return not_found();
    std::filesystem::path dir = models_dir / std::string(tag);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return not_found();
    auto mtime = std::filesystem::last_write_time(dir, ec);
    Micros created = NowMicros();
    if (!ec) {
      auto sys = std::chrono::file_clock::to_sys(mtime);
      created =
          std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
    }
    return embeddings::ModelRef{"dir:" + std::string(tag), std::string(tag), dir, created};
  };
}

std::unique_ptr<EmbeddingsParts> BuildEmbeddings(const config::Config& c,
                                                 storage::Database& database,
                                                 embeddings::ModelLookup lookup) {
  auto parts = std::make_unique<EmbeddingsParts>();
  embeddings::BatcherOptions batcher;
  batcher.max_batch = c.embeddings_max_batch;
  batcher.wait =
      std::chrono::microseconds(static_cast<std::int64_t>(c.embeddings_batch_wait_ms * 1000.0));
  batcher.queue_capacity = c.embeddings_queue_size;
  parts->cache = std::make_unique<embeddings::ModelCache>(
      EncoderModelLoader(c.inference_threads), batcher,
      static_cast<std::size_t>(c.embeddings_cached_models));
  parts->counter = std::make_unique<embeddings::RequestCounter>(
      database,
      std::chrono::milliseconds(static_cast<std::int64_t>(c.embeddings_flush_seconds * 1000.0)));
  parts->service = std::make_unique<embeddings::EmbeddingService>(
      std::move(lookup), *parts->cache, parts->counter.get(),
      embeddings::EmbeddingServiceOptions{c.embeddings_max_inputs, c.embeddings_max_tokens});
  return parts;
}

}  // namespace vectorize::app
