#include "models/model.h"

#include <cctype>

namespace vectorize::models {
namespace {
bool TagChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }
}  // namespace

Status ValidateTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength)
    return Fail(Error::InvalidArgument("a model tag must be 1 to 100 characters"));
  for (unsigned char c : tag) {
    if (!TagChar(c))
      return Fail(
          Error::InvalidArgument("a model tag may contain only letters, digits, '.', '_' and '-'"));
  }
  if (tag.front() == '.' || tag.front() == '-')
    return Fail(Error::InvalidArgument("a model tag may not start with '.' or '-'"));
  return {};
}

std::string DeriveTag(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '/') {
      out += "--";
    } else if (TagChar(c)) {
      out += char(c);
    } else {
      out += '_';
    }
  }
  while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(0, 1);
  if (out.size() > kMaxTagLength) out.resize(kMaxTagLength);
  if (out.empty()) out = "model";
  return out;
}

}  // namespace vectorize::models
