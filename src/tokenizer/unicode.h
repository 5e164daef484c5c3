#pragma once
// Character classes of Hugging Face `tokenizers` (the Rust crate), on top of utf8proc.
// Each function names the Rust predicate it reproduces. Thread safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vectorize::tokenizer {

// Decodes one code point at s[i] and advances i. Invalid UTF-8 yields U+FFFD and skips one byte.
// REQUIRES: i < s.size().
char32_t DecodeUtf8(std::string_view s, std::size_t& i);

// Appends cp as UTF-8.
void AppendUtf8(std::string& out, char32_t cp);

// Rust `char::is_whitespace` (Unicode White_Space), which also covers \t \n \r.
bool IsWhitespace(char32_t cp);

// BertNormalizer's control test: Unicode "Other" (Cc, Cf, Cn, Co, Cs) except \t \n \r.
bool IsControl(char32_t cp);

// BertPreTokenizer's punctuation: ASCII punctuation (33–47, 58–64, 91–96, 123–126) or Unicode P*.
bool IsPunctuation(char32_t cp);

// BertNormalizer's CJK ideograph ranges (verbatim from `tokenizers`, including its 0x2B920 start).
bool IsChineseChar(char32_t cp);

// General category Mn (what strip_accents removes after NFD).
bool IsNonspacingMark(char32_t cp);

// Appends the canonical decomposition (NFD) of cp as code points; returns how many were written
// (at most `cap`, which must be ≥ 4 — the longest canonical decomposition is 4 code points).
std::size_t Decompose(char32_t cp, char32_t* out, std::size_t cap);

// Rust `char::to_lowercase` appended as UTF-8 (full mapping: U+0130 → "i\u0307").
void AppendLower(std::string& out, char32_t cp);

}  // namespace vectorize::tokenizer
