#pragma once
// BertNormalizer of Hugging Face `tokenizers`, in its order: clean_text (drop NUL, U+FFFD and
// control characters; any whitespace becomes ' '), handle_chinese_chars (spaces around CJK
// ideographs), strip_accents (NFD, then drop Mn), lowercase (full Unicode lowercase).
// Thread safety: immutable after construction; Normalize may run concurrently.

#include <string>
#include <string_view>

namespace vectorize::tokenizer {

struct BertNormalizerOptions {
  bool enabled = true;  // false: text passes through untouched (normalizer null)
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // tokenizer.json's null means "same as lowercase"
  bool lowercase = true;
};

class BertNormalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options);

  // Appends the normalised form of `text` to `out` (which is not cleared). Invalid UTF-8 bytes
  // read as U+FFFD (dropped by clean_text).
  void Normalize(std::string_view text, std::string& out) const;

  const BertNormalizerOptions& options() const { return options_; }

 private:
  void NormalizeCodePoint(char32_t cp, std::string& out) const;

  BertNormalizerOptions options_;
  // What each ASCII byte becomes: 0 = dropped, else the output byte.
  unsigned char ascii_map_[128];
};

}  // namespace vectorize::tokenizer
