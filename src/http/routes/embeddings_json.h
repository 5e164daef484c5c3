#pragma once
// The JSON of the embeddings API (SPEC §3.3, OpenAI's shape): parsing a request body with
// FastAPI-style validation errors, and writing the response.
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "common/error.h"
#include "embeddings/embedding_service.h"

namespace vectorize::http {

enum class EncodingFormat { kFloat, kBase64 };

struct EmbeddingsRequestBody {
  embeddings::EmbedRequest request;
  EncodingFormat format = EncodingFormat::kFloat;
};

// Parses {"input", "model", "encoding_format"?, "dimensions"?, "user"?}. `input` is a string, a
// list of strings, a list of token ids or a list of lists of token ids; empty strings and empty
// lists are refused. Unknown fields are ignored (as FastAPI does).
// Errors: invalid_argument with fields, loc like ["body","input",2] (answered 422).
[[nodiscard]] Result<EmbeddingsRequestBody> ParseEmbeddingsRequest(std::string_view body);

// {"object":"list","data":[{"object":"embedding","embedding":…,"index":i}],"model":…,
//  "usage":{"prompt_tokens":n,"total_tokens":n}}; base64 = little-endian float32.
[[nodiscard]] std::string EmbeddingsResponseJson(const embeddings::EmbedResult& result,
                                                 std::string_view model, EncodingFormat format);

}  // namespace vectorize::http
