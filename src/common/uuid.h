#pragma once
// Task and record ids: UUID version 7 (time-ordered, so new rows land at the end of B-trees),
// in the canonical lowercase 8-4-4-4-12 text form. Thread safety: NewUuidV7 may be called from
// any thread.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace vectorize {

std::string NewUuidV7();

// The canonical 8-4-4-4-12 lowercase text of 16 bytes (no version or variant is set).
std::string FormatUuid(const std::array<unsigned char, 16>& bytes);

// Accepts any RFC 9562 UUID in 8-4-4-4-12 hex form (either case); returns it lowercased.
std::optional<std::string> NormalizeUuid(std::string_view text);

}  // namespace vectorize
