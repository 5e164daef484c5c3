#pragma once
// The embeddings service (SPEC §3.3) without HTTP types: finds the model by tag, tokenises the
// inputs (or wraps given token ids with the special tokens), truncates at the model's
// max_seq_length, checks the request limits, runs the model through its batcher, applies
// `dimensions`, and counts the request per day.
// Thread safety: every method may be called from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "embeddings/embedding_model.h"
#include "embeddings/model_cache.h"
#include "embeddings/request_counter.h"

namespace vectorize::embeddings {

// The `input` of a request: texts, or token ids (`nested` = the [[int]] form rather than [int]).
struct EmbeddingInput {
  std::vector<std::string> texts;
  std::vector<std::vector<std::int32_t>> token_ids;
  bool tokens = false;
  bool nested = false;
  [[nodiscard]] std::size_t size() const { return tokens ? token_ids.size() : texts.size(); }
};

struct EmbedRequest {
  std::string model;  // tag
  EmbeddingInput input;
  std::optional<int> dimensions;
};

struct EmbedResult {
  std::vector<std::vector<float>> vectors;  // one per input, in order
  std::int64_t prompt_tokens = 0;           // ids fed to the model, special tokens included
};

// What one model served since the process started (GET /metrics).
struct ModelUsage {
  std::string model;           // tag
  std::uint64_t requests = 0;  // successful requests
  std::uint64_t inputs = 0;    // embeddings returned
  std::uint64_t tokens = 0;    // ids fed to the model (usage.prompt_tokens)
};

struct EmbeddingServiceOptions {
  int max_inputs = 2048;    // more → 413
  int max_tokens = 300000;  // Σ ids after truncation; more → 413
};

// Public code of the "too large" errors (answered 413).
inline constexpr std::string_view kPayloadTooLarge = "PAYLOAD_TOO_LARGE";

class EmbeddingService {
 public:
  // REQUIRES: cache (and counter, when given) outlive the service.
  EmbeddingService(ModelLookup lookup, ModelCache& cache, RequestCounter* counter,
                   EmbeddingServiceOptions options);

  // Errors: not_found (no such model), invalid_argument with fields (token id out of range,
  // dimensions too large: 422 with loc), resource_exhausted with public_code PAYLOAD_TOO_LARGE
  // (too many inputs or tokens: 413), resource_exhausted (queue full: 429), unavailable (the
  // inference module is missing), internal (a registered model that does not load — its files
  // were damaged after the upload's check — or a failed forward pass).
  [[nodiscard]] Result<EmbedResult> Embed(const EmbedRequest& request);

  // Requests served per day since the model was created (see RequestCounter::PerDay).
  // Errors: not_found, the database's.
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> Counter(
      std::string_view tag);

  // Unloads a model (call on delete). Returns whether it was loaded.
  bool Evict(const std::string& model_id) { return cache_.Evict(model_id); }

  // Per model (by tag, sorted), what was served since the process started.
  [[nodiscard]] std::vector<ModelUsage> Usage() const;
  // Models loaded in memory now.
  [[nodiscard]] std::size_t loaded_models() const { return cache_.size(); }

 private:
  ModelLookup lookup_;
  ModelCache& cache_;
  RequestCounter* counter_;
  EmbeddingServiceOptions options_;
  mutable std::mutex usage_mu_;
  std::map<std::string, ModelUsage, std::less<>> usage_;  // by tag; guarded by usage_mu_
};

}  // namespace vectorize::embeddings
