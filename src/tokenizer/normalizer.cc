#include "tokenizer/normalizer.h"

#include "tokenizer/unicode.h"

namespace vectorize::tokenizer {

BertNormalizer::BertNormalizer(BertNormalizerOptions options) : options_(options) {
  for (int c = 0; c < 128; ++c) {
    unsigned char out = static_cast<unsigned char>(c);
    if (options_.enabled && options_.clean_text) {
      // Control characters are removed before whitespace is mapped, so \v, \f and the C0
      // separators vanish while \t \n \r become spaces (as in `tokenizers`).
      if (c == 0 || (IsControl(static_cast<char32_t>(c)))) {
        out = 0;
      } else if (IsWhitespace(static_cast<char32_t>(c))) {
        out = ' ';
      }
    }
    if (out != 0 && options_.enabled && options_.lowercase && c >= 'A' && c <= 'Z') {
      out = static_cast<unsigned char>(c - 'A' + 'a');
    }
    // NUL survives only when nothing removes it; keep it representable by a sentinel below.
    ascii_map_[c] = out;
  }
}

void BertNormalizer::Normalize(std::string_view text, std::string& out) const {
  if (!options_.enabled) {
    out.append(text);
    return;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path: a table lookup per byte, no decoding.
    if (p[i] < 0x80) {
      unsigned char c = p[i++];
      unsigned char m = ascii_map_[c];
      if (m != 0) {
        out.push_back(static_cast<char>(m));
      } else if (c == 0 && !options_.clean_text) {
        out.push_back('\0');
      }
      continue;
    }
    NormalizeCodePoint(DecodeUtf8(text, i), out);
  }
}

void BertNormalizer::NormalizeCodePoint(char32_t cp, std::string& out) const {
  if (options_.clean_text) {
    if (cp == 0xFFFD || IsControl(cp)) return;
    if (IsWhitespace(cp)) {
      out.push_back(' ');
      return;
    }
  }
  const bool chinese = options_.handle_chinese_chars && IsChineseChar(cp);
  if (chinese) out.push_back(' ');
  char32_t parts[8];
  std::size_t count = 1;
  parts[0] = cp;
  if (options_.strip_accents) count = Decompose(cp, parts, 8);
  for (std::size_t k = 0; k < count; ++k) {
    char32_t c = parts[k];
    if (options_.strip_accents && IsNonspacingMark(c)) continue;
    if (options_.lowercase) {
      AppendLower(out, c);
    } else {
      AppendUtf8(out, c);
    }
  }
  if (chinese) out.push_back(' ');
}

}  // namespace vectorize::tokenizer
