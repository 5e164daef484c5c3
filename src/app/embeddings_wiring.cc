#include "app/embeddings_wiring.h"

#include <utility>

#include "inference/encoder.h"
#include "modelfiles/model_dir.h"
#include "tokenizer/tokenizer.h"

namespace vectorize::app {

namespace {

// inference::Encoder + the folder's tokenizer, seen as an embeddings::EmbeddingModel.
class EncoderEmbeddingModel : public embeddings::EmbeddingModel {
 public:
  EncoderEmbeddingModel(std::unique_ptr<inference::Encoder> encoder,
                        std::shared_ptr<const tokenizer::Tokenizer> tokenizer)
      : encoder_(std::move(encoder)), tokenizer_(std::move(tokenizer)) {}

  Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& sequences) override {
    return encoder_->Embed(sequences);
  }
  int dimension() const override { return encoder_->dimension(); }
  int max_seq_length() const override { return encoder_->max_seq_length(); }
  int vocab_size() const override { return encoder_->vocab_size(); }
  bool normalizes() const override { return encoder_->normalizes(); }
  const tokenizer::Tokenizer& tokenizer() const override { return *tokenizer_; }

 private:
  std::unique_ptr<inference::Encoder> encoder_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
};

}  // namespace

embeddings::ModelLoader EncoderModelLoader(int threads) {
  return
      [threads](
          const embeddings::ModelRef& ref) -> Result<std::shared_ptr<embeddings::EmbeddingModel>> {
        auto info = modelfiles::InspectModelDir(ref.path);
        if (!info) return Fail(info.error());
        auto tok = tokenizer::Tokenizer::FromFile(info->tokenizer_file);
        if (!tok) return Fail(tok.error());
        // The first load maps libtorch (libvectorize_inference.so, see inference/plugin.h).
        auto encoder = inference::Encoder::Load(*info, {.threads = threads});
        if (!encoder) return Fail(encoder.error());
        return std::shared_ptr<embeddings::EmbeddingModel>(
            std::make_shared<EncoderEmbeddingModel>(std::move(*encoder), std::move(*tok)));
      };
}

embeddings::ModelLookup RegistryModelLookup(models::ModelRegistry& registry,
                                            std::filesystem::path data_dir) {
  return [&registry, data_dir](std::string_view tag) -> Result<embeddings::ModelRef> {
    auto model = registry.GetByTag(std::string(tag.substr(0, 256)));
    if (!model) return Fail(model.error());
    return embeddings::ModelRef{model->id, model->tag, data_dir / model->path, model->created_at};
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
