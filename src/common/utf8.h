#pragma once
// UTF-8 validity checks for text that reaches JSON output: request values echoed in error
// messages, tags. Pure functions.

#include <cstddef>
#include <string>
#include <string_view>

namespace vectorize {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Characters (code points) in UTF-8 text: the bytes that do not continue a sequence. Limits
// stated "in characters" (tags, names, reasons) count these.
std::size_t Utf8Length(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD; at most `max_chars` code points, with
// "…" appended when cut. For echoing untrusted input in messages.
std::string SanitizeUtf8(std::string_view s, size_t max_chars = 200);

}  // namespace vectorize
