#pragma once
// The text encoder contract: token ids in, sentence embeddings out. No torch types here; the
// libtorch implementation (TorchBertEncoder, torch_bert_encoder.cc) is created by Encoder::Load.
//
// Semantics follow sentence-transformers: a BERT-family transformer, then pooling (mean over the
// attention mask, CLS or max, from the model folder), then L2 normalisation when the folder's
// modules.json lists a Normalize module.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/error.h"
#include "modelfiles/model_dir.h"

namespace vectorize::inference {

struct EncoderOptions {
  // Threads one Embed call spreads its sequences over (each forward pass itself is
  // single-threaded; see batch_plan.h). 0 = one per CPU the process may use. The pool is shared
  // by every encoder of the process: the last value loaded applies to encoders loaded from then.
  int threads = 0;
};

// Thread safety: Embed may be called from several threads at once (the forward pass only reads
// the weights); loading and destruction must not overlap other calls.
class Encoder {
 public:
  virtual ~Encoder() = default;

  // Loads the weights of an inspected model folder (safetensors via mmap, sharded too; or a
  // torch.save'd pytorch_model.bin / model.bin state dict) into a BERT module.
  // Errors: kInvalidArgument when the weights do not match the config or cannot be read
  // (message names the file or tensor), kInternal for anything libtorch throws.
  [[nodiscard]] static Result<std::unique_ptr<Encoder>> Load(const modelfiles::ModelDirInfo& info,
                                                             const EncoderOptions& options = {});
  // InspectModelDir + Load.
  [[nodiscard]] static Result<std::unique_ptr<Encoder>> LoadDir(const std::filesystem::path& dir,
                                                                const EncoderOptions& options = {});

  // Embeds a batch of token id sequences, each already [CLS] … [SEP]. Sequences are packed without
  // padding and spread over the encoder threads; a sequence's vector never depends on the others
  // of the batch (to float rounding). A sequence longer than
  // max_seq_length() is truncated the way Hugging Face tokenizers truncate: its first
  // max_seq_length() - 1 ids and its last id (the [SEP]) are kept.
  // Returns one vector of dimension() floats per sequence, in input order.
  // Errors: kInvalidArgument (message names the input index) for an empty sequence or an id
  // outside [0, vocab_size); kInternal if libtorch fails.
  [[nodiscard]] virtual Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& ids) = 0;

  [[nodiscard]] virtual int dimension() const = 0;
  [[nodiscard]] virtual int max_seq_length() const = 0;
  [[nodiscard]] virtual bool normalizes() const = 0;
  [[nodiscard]] virtual int vocab_size() const = 0;
};

}  // namespace vectorize::inference
