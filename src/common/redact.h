#pragma once
// Hiding passwords in database URLs before they reach logs, errors or printed config.

#include <string>
#include <string_view>

namespace vectorize {

// Replaces the password with *** in "scheme://user:password@host…" (the last '@' ends the user
// info, so a password holding '@', '/' or '?' is hidden whole), in a "password=" query
// parameter, and in libpq key=value conninfo ("host=h password='x y'"). Anything without a
// password is returned unchanged.
std::string RedactUrl(std::string_view url);

}  // namespace vectorize
