#pragma once
// Internal to src/config: the one table that describes every setting. LoadConfig (TOML, env,
// flags), DescribeConfig, SettingsHelp and docs/configuration.md all follow this table, so a new
// setting is added here and nowhere else. Thread safety: the table is immutable after static
// initialisation; the functions are pure.

#include <cstdint>
#include <expected>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace vectorize::config::internal {

// A pointer to one field of a Config; the alternative decides how text is parsed.
using FieldRef = std::variant<std::string*, bool*, std::uint16_t*, int*, std::uint64_t*, double*,
                              std::vector<std::string>*>;

// Allowed numeric values: [min, max], or (min, max] when min_exclusive.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
};

// Success, or the reason a value was rejected (without the source; the caller prefixes it).
using Check = std::expected<void, std::string>;

struct Setting {
  std::string_view key;        // TOML key; "concurrency.training" is `training` in [concurrency]
  std::string_view env;        // environment variable
  std::string_view flag = {};  // command-line flag documented for it, or empty
  std::string_view section;    // heading in SettingsHelp
  std::string_view help;       // one or two sentences: meaning and trade-off
  FieldRef (*field)(Config&);
  Range range = {};                            // numbers only
  Check (*check)(std::string_view) = nullptr;  // strings only: extra validation
  bool secret = false;                         // never printed
};

std::span<const Setting> AllSettings();

// nullptr when no setting has that TOML key / environment variable.
const Setting* FindSettingByKey(std::string_view key);
const Setting* FindSettingByEnv(std::string_view env);

// Whether `prefix` names a TOML table holding settings ("concurrency").
bool IsSettingTable(std::string_view prefix);

// A value as it arrives from a source. Environment variables and flags are untyped text; TOML
// values keep their type so that `port = "80"` is rejected rather than guessed at.
struct RawValue {
  enum class Kind { kText, kString, kInteger, kFloat, kBool, kArray, kTable, kDateTime };
  Kind kind = Kind::kText;
  std::string text;                // every kind but kArray and kTable
  std::vector<std::string> items;  // kArray
  bool array_of_strings = true;    // kArray
};

// Parses `value` into the setting's field of `config`, checking type, range and format.
// Cross-setting rules (heartbeat < lease, ...) are checked by LoadConfig afterwards.
[[nodiscard]] Check Assign(const Setting& setting, Config& config, const RawValue& value);

// The value as TOML-style text (`"127.0.0.1"`, `8000`, `["a", "b"]`) or, with quoted = false,
// as plain text for the help table. Does not redact: callers decide what is secret.
std::string FormatValue(const FieldRef& field, bool quoted);

// Shortest text that reads back as the same double ("30", "2.5").
std::string FormatNumber(double value);

}  // namespace vectorize::config::internal
