#pragma once
// Small pure functions on embedding vectors used by the service and its HTTP glue.
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <vector>

namespace vectorize::embeddings {

// Keeps the first k components (k < size) and, when `renormalize`, scales them back to unit L2
// length (OpenAI's `dimensions` on a normalising model). A zero vector stays zero.
void TruncateDimensions(std::vector<float>& v, std::size_t k, bool renormalize);

// Base64 (RFC 4648, padded) of the floats as little-endian IEEE-754 float32: what OpenAI clients
// decode with numpy.frombuffer(base64.b64decode(s), dtype="<f4").
std::string Base64Float32(const std::vector<float>& v);

}  // namespace vectorize::embeddings
