#include "datasets/formats/cell_safety.h"

#include <array>
#include <cctype>
#include <string>

namespace vectorize::datasets::formats {
namespace {

// Leading bytes Python's string.whitespace and the ASCII control characters cover.
bool IsSkippable(unsigned char c) { return c < 0x20 || c == ' ' || c == 0x7f; }

std::string_view StripLeading(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSkippable(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool IsTrigger(char c) { return c == '=' || c == '+' || c == '-' || c == '@'; }

}  // namespace

bool NeedsFormulaPrefix(std::string_view cell) {
  if (cell.empty()) return false;
  if (cell[0] == '\t' || cell[0] == '\r') return true;
  std::string_view s = StripLeading(cell);
  return !s.empty() && IsTrigger(s[0]);
}

bool IsDdePayload(std::string_view cell) {
  std::string_view s = StripLeading(cell);
  if (s.empty() || !IsTrigger(s[0])) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] != '|') continue;
    unsigned char p = static_cast<unsigned char>(s[i - 1]);
    if (std::isalnum(p) || p == '_' || p == '.' || p == ')' || p == '\'' || p == '"') return true;
  }
  std::string lower(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  }
  if (lower.find("ddeauto") != std::string::npos) return true;
  for (size_t pos = lower.find("dde"); pos != std::string::npos; pos = lower.find("dde", pos + 1)) {
    size_t j = pos + 3;
    while (j < lower.size() && lower[j] == ' ') ++j;
    bool word_start = pos == 0 || !std::isalnum(static_cast<unsigned char>(lower[pos - 1]));
    if (word_start && j < lower.size() && lower[j] == '(') return true;
  }
  if (s[0] == '=' || s[0] == '@') {
    static constexpr std::array<std::string_view, 10> kPrograms = {
        "cmd",      "powershell", "pwsh",    "mshta",    "rundll32",
        "regsvr32", "wscript",    "cscript", "certutil", "bitsadmin"};
    for (std::string_view p : kPrograms) {
      for (size_t pos = lower.find(p); pos != std::string::npos; pos = lower.find(p, pos + 1)) {
        bool before = pos == 0 || !std::isalpha(static_cast<unsigned char>(lower[pos - 1]));
        size_t end = pos + p.size();
        bool after = end >= lower.size() || !std::isalpha(static_cast<unsigned char>(lower[end]));
        if (before && after) return true;
      }
    }
  }
  return false;
}

}  // namespace vectorize::datasets::formats
