// The 34 column combinations the Python original accepted from the Hub (its app.toml
// hf_allowed_schemas, same order), with its two mapping bugs fixed (see formats.h).

#include <fmt/format.h>

#include "datasets/formats/formats.h"

namespace vectorize::datasets::formats {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

const std::vector<std::vector<std::string_view>>& HubSchemas() {
  static const std::vector<std::vector<std::string_view>> kSchemas = {
      // prompt/chosen/rejected variations
      {"prompt", "chosen", "rejected"},
      {"prompt", "chosen_response", "rejected_response"},
      {"prompt", "response_chosen", "response_rejected"},
      {"prompt", "chosen"},
      // instruction-based
      {"instruction", "chosen", "rejected"},
      {"instruction", "chosen_response", "rejected_response"},
      {"instruction", "response_a", "response_b"},
      {"instruction", "output_1", "output_2"},
      {"instruction", "output"},
      // query/question-based
      {"query", "chosen", "rejected"},
      {"query", "chosen_response", "rejected_response"},
      {"question", "chosen", "rejected"},
      {"question", "positive", "negative"},
      {"question", "positive"},
      {"question", "answer"},
      // input-based
      {"input", "chosen", "rejected"},
      {"input", "chosen_response", "rejected_response"},
      {"input", "output_a", "output_b"},
      {"input", "response_a", "response_b"},
      {"input", "output"},
      {"input", "target"},
      // system + conversation (the system prompt is not the question)
      {"system", "question", "chosen", "rejected"},
      {"system", "user", "chosen", "rejected"},
      {"system", "human", "chosen", "rejected"},
      {"system", "prompt", "chosen", "rejected"},
      // response preference
      {"text", "chosen", "rejected"},
      {"context", "chosen", "rejected"},
      {"context", "response_a", "response_b"},
      {"context", "answer_a", "answer_b"},
      // common variations
      {"conversations", "chosen", "rejected"},
      {"messages", "chosen", "rejected"},
      {"dialogue", "chosen", "rejected"},
      // Anthropic HH-RLHF
      {"human", "assistant"},
      {"human", "chosen", "rejected"},
  };
  return kSchemas;
}

std::optional<ColumnMapping> MapHubColumns(const std::vector<std::string>& columns) {
  auto find = [&](std::string_view want) -> const std::string* {
    for (const auto& c : columns) {
      if (EqualsIgnoreCase(c, want)) return &c;
    }
    return nullptr;
  };
  std::optional<ColumnMapping> best;
  for (const auto& schema : HubSchemas()) {
    std::vector<const std::string*> found;
    for (std::string_view col : schema) {
      const std::string* f = find(col);
      if (f == nullptr) break;
      found.push_back(f);
    }
    if (found.size() != schema.size()) continue;
    // Four columns: system, X, chosen, rejected → X is the question.
    size_t q = schema.size() == 4 ? 1 : 0;
    ColumnMapping m{*found[q], *found[q + 1], std::nullopt};
    if (q + 2 < found.size()) m.negative = *found[q + 2];
    if (m.negative) return m;  // triples win; the first in list order
    if (!best) best = m;
  }
  return best;
}

}  // namespace vectorize::datasets::formats
