#include "common/redact.h"

#include <algorithm>

namespace vectorize {

std::string RedactUrl(std::string_view url_view) {
  std::string out(url_view);
  const std::size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    // user:password@host — the last '@' ends the user info, so a password holding '@', '/' or
    // '?' is still hidden whole.
    const std::size_t auth_begin = scheme_end + 3;
    const std::size_t at = out.rfind('@');
    if (at != std::string::npos && at > auth_begin) {
      const std::size_t colon = out.find(':', auth_begin);
      const bool user_has_slash = colon != std::string::npos && out.find('/', auth_begin) < colon;
      if (colon != std::string::npos && colon < at && !user_has_slash && colon + 1 < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
    // libpq also takes the password as a query parameter: ...?password=secret&sslmode=require.
    for (std::string_view sep : {"?password=", "&password="}) {
      const std::size_t pos = out.find(sep);
      if (pos == std::string::npos) continue;
      const std::size_t begin = pos + sep.size();
      const std::size_t end = std::min(out.find_first_of("&#", begin), out.size());
      if (end > begin) out.replace(begin, end - begin, "***");
    }
    return out;
  }
  // key=value conninfo: "host=h password=secret user=u" (values may be quoted).
  std::size_t pos = 0;
  while ((pos = out.find("password", pos)) != std::string::npos) {
    std::size_t eq = out.find_first_not_of(' ', pos + 8);
    if (eq == std::string::npos || out[eq] != '=' || (pos > 0 && out[pos - 1] != ' ')) {
      pos += 8;
      continue;
    }
    std::size_t begin = out.find_first_not_of(' ', eq + 1);
    if (begin == std::string::npos) break;
    std::size_t end;
    if (out[begin] == '\'') {
      end = begin + 1;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      end = std::min(out.find(' ', begin), out.size());
    }
    out.replace(begin, end - begin, "***");
    pos = begin + 3;
  }
  return out;
}

}  // namespace vectorize
