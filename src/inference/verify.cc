#include "inference/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "inference/encoder.h"

namespace vectorize::inference {

Status VerifyLoads(const std::filesystem::path& dir, const EncoderOptions& options) {
  auto encoder = Encoder::LoadDir(dir, options);
  if (!encoder) return Fail(std::move(encoder.error()));
  // [CLS] [SEP] of BERT vocabularies; tiny vocabularies (tests) fall back to their last ids.
  const int top = (*encoder)->vocab_size() - 1;
  auto out = (*encoder)->Embed({{std::min(101, top), std::min(102, top)}});
  if (!out) return Fail(std::move(out.error()));
  if (out->size() != 1 || static_cast<int>(out->front().size()) != (*encoder)->dimension()) {
    return Fail(Error::Internal("the test forward pass returned the wrong shape"));
  }
  if (!std::all_of(out->front().begin(), out->front().end(),
                   [](float v) { return std::isfinite(v); })) {
    return Fail(Error::InvalidArgument(
        "the model's test forward pass produced NaN or infinite values (broken weights)"));
  }
  return {};
}

}  // namespace vectorize::inference
