#include "embeddings/embedding_service.h"

#include <fmt/format.h>

#include "common/time.h"
#include "embeddings/vector_ops.h"

namespace vectorize::embeddings {

namespace {
Error TooLarge(std::string message) {
  Error e = Error::ResourceExhausted(std::move(message));
  e.public_code = std::string(kPayloadTooLarge);
  return e;
}

// A registered model passed the upload's load check, so a model that does not load now is the
// server's fault (files damaged or removed since), not the request's: 500 (the detail, with the
// model's tag, goes to the server log). Unavailable (no inference module) and
// resource_exhausted (no room) keep their own codes.
Error LoadError(std::string_view tag, Error e) {
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kResourceExhausted) return e;
  return Error::Internal(
      fmt::format("model {} is registered but could not be loaded: {}", tag, e.message));
}
}  // namespace

EmbeddingService::EmbeddingService(ModelLookup lookup, ModelCache& cache, RequestCounter* counter,
                                   EmbeddingServiceOptions options)
    : lookup_(std::move(lookup)), cache_(cache), counter_(counter), options_(options) {}

Result<EmbedResult> EmbeddingService::Embed(const EmbedRequest& request) {
  auto ref = lookup_(request.model);
  if (!ref) return Fail(ref.error());
  const std::size_t count = request.input.size();
  if (count > static_cast<std::size_t>(options_.max_inputs)) {
    return Fail(TooLarge(
        fmt::format("{} inputs in one request; the limit is {}", count, options_.max_inputs)));
  }
  auto batcher = cache_.Get(*ref);
  if (!batcher) return Fail(LoadError(request.model, std::move(batcher.error())));
  EmbeddingModel& model = *(*batcher)->model();

  if (request.dimensions && *request.dimensions > model.dimension()) {
    return Fail(Error::Validation({{{"body", "dimensions"},
                                    fmt::format("Input should be less than or equal to {} (the "
                                                "dimension of model {})",
                                                model.dimension(), request.model),
                                    "less_than_equal"}}));
  }

  const auto max_len = static_cast<std::size_t>(std::max(2, model.max_seq_length()));
  std::vector<std::vector<std::int32_t>> sequences;
  sequences.reserve(count);
  std::int64_t tokens = 0;
  if (request.input.tokens) {
    const std::int32_t vocab = model.vocab_size();
    std::vector<FieldError> bad;
    for (std::size_t i = 0; i < count && bad.size() < 20; ++i) {
      const auto& ids = request.input.token_ids[i];
      for (std::size_t j = 0; j < ids.size(); ++j) {
        if (ids[j] >= 0 && ids[j] < vocab) continue;
        std::vector<std::string> loc = {"body", "input"};
        if (request.input.nested) loc.push_back(std::to_string(i));
        loc.push_back(std::to_string(j));
        bad.push_back({std::move(loc),
                       fmt::format("token id {} is outside the vocabulary of model {} (0..{})",
                                   ids[j], request.model, vocab - 1),
                       "value_error"});
        break;
      }
    }
    if (!bad.empty()) return Fail(Error::Validation(std::move(bad)));
    for (const auto& ids : request.input.token_ids) {
      sequences.push_back(model.tokenizer().WrapIds(ids, max_len));
      tokens += static_cast<std::int64_t>(sequences.back().size());
    }
  } else {
    for (const std::string& text : request.input.texts) {
      sequences.push_back(model.tokenizer().Encode(text, max_len));
      tokens += static_cast<std::int64_t>(sequences.back().size());
      if (tokens > options_.max_tokens) break;
    }
  }
  if (tokens > options_.max_tokens) {
    return Fail(TooLarge(fmt::format(
        "the inputs hold more than {} tokens after truncation at {} per input; send fewer",
        options_.max_tokens, max_len)));
  }

  auto vectors = (*batcher)->Embed(sequences);
  if (!vectors) return Fail(vectors.error());
  if (request.dimensions) {
    for (auto& v : *vectors) {
      TruncateDimensions(v, static_cast<std::size_t>(*request.dimensions), model.normalizes());
    }
  }
  if (counter_ != nullptr) counter_->Record(ref->id, NowMicros());
  {
    std::lock_guard lock(usage_mu_);
    auto it = usage_.find(request.model);
    if (it == usage_.end()) it = usage_.emplace(request.model, ModelUsage{request.model}).first;
    it->second.requests += 1;
    it->second.inputs += vectors->size();
    it->second.tokens += static_cast<std::uint64_t>(tokens);
  }
  return EmbedResult{std::move(*vectors), tokens};
}

std::vector<ModelUsage> EmbeddingService::Usage() const {
  std::lock_guard lock(usage_mu_);
  std::vector<ModelUsage> out;
  out.reserve(usage_.size());
  for (const auto& [tag, usage] : usage_) out.push_back(usage);
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> EmbeddingService::Counter(
    std::string_view tag) {
  auto ref = lookup_(tag);
  if (!ref) return Fail(ref.error());
  if (counter_ == nullptr) return Fail(Error::Unavailable("request counting is not enabled"));
  return counter_->PerDay(ref->id, ref->created_at_us, NowMicros());
}

}  // namespace vectorize::embeddings
