// libvectorize_encoder.so: the libtorch encoder behind embeddings::EmbeddingModel, loaded by
// app/embeddings_wiring.cc on the first model load (dlopen) so that processes which never embed
// do not load libtorch. Built from the same sources and flags as the binary that loads it.

#include <utility>

#include "embeddings/embedding_model.h"
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
}  // namespace vectorize::app

// Returns a new embeddings::ModelLoader (the caller owns it).
extern "C" __attribute__((visibility("default"))) void* vz_encoder_loader_create(
    int intra_op_threads) {
  using namespace vectorize;
  return new embeddings::ModelLoader([intra_op_threads](const embeddings::ModelRef& ref)
                                         -> Result<std::shared_ptr<embeddings::EmbeddingModel>> {
    auto info = modelfiles::InspectModelDir(ref.path);
    if (!info) return Fail(info.error());
    auto tok = tokenizer::Tokenizer::FromFile(info->tokenizer_file);
    if (!tok) return Fail(tok.error());
    auto encoder = inference::Encoder::Load(*info, {.intra_op_threads = intra_op_threads});
    if (!encoder) return Fail(encoder.error());
    return std::shared_ptr<embeddings::EmbeddingModel>(
        std::make_shared<app::EncoderEmbeddingModel>(std::move(*encoder), std::move(*tok)));
  });
}
