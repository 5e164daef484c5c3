#pragma once
// JSON text as clients expect to read it. Boost.JSON writes doubles in its own exponent form
// (1.0 → "1E0", 0.26 → "2.6E-1"): valid JSON, but not what people reading `curl` output or the
// OpenAPI examples expect. These write doubles as the shortest decimal that reads back the same
// ("1.0", "0.26", "1e-07" only where plain digits would be longer), like Python and JavaScript.
// Thread safety: pure functions.

#include <boost/json/value.hpp>
#include <string>

namespace vectorize::http {

// Appends the double in the shortest round-trip form, with ".0" on whole numbers so that it
// stays a float for typed clients; NaN and infinities (not JSON) are written as null.
void AppendJsonDouble(std::string& out, double value);

// boost::json::serialize, with doubles written by AppendJsonDouble.
[[nodiscard]] std::string SerializeJson(const boost::json::value& value);

}  // namespace vectorize::http
