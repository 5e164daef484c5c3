#include "config/config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/redact.h"
#include "config/settings.h"

namespace vectorize::config {
namespace {

using internal::AllSettings;
using internal::RawValue;
using internal::Setting;

constexpr std::string_view kEnvPrefix = "VECTORIZE_";
// Names under VECTORIZE_ that are not settings but are used by tests and CI; see config.h.
constexpr std::array<std::string_view, 2> kReservedEnvPrefixes = {"VECTORIZE_TEST_",
                                                                  "VECTORIZE_PG_"};
constexpr std::size_t kHelpWidth = 100;

// Which source set each setting last, for messages about rules spanning two settings.
using Origins = std::map<std::string_view, std::string>;

std::string OriginOf(const Origins& origins, std::string_view key) {
  auto it = origins.find(key);
  return it == origins.end() ? "default" : it->second;
}

Status Apply(const Setting& setting, const RawValue& value, std::string label, Config& config,
             Origins& origins) {
  if (auto ok = internal::Assign(setting, config, value); !ok) {
    return Fail(Error::InvalidArgument(label + ": " + ok.error()));
  }
  origins[setting.key] = std::move(label);
  return {};
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'port'?)" for a near miss among `candidates`, else "".
std::string Suggestion(std::string_view name, std::string_view Setting::*candidates) {
  const Setting* best = nullptr;
  std::size_t best_distance = std::max<std::size_t>(2, name.size() / 5) + 1;
  for (const Setting& s : AllSettings()) {
    std::size_t d = EditDistance(name, s.*candidates);
    if (d < best_distance) {
      best = &s;
      best_distance = d;
    }
  }
  return best == nullptr ? "" : " (did you mean '" + std::string(best->*candidates) + "'?)";
}

// ---------------------------------------------------------------- TOML file

RawValue ToRawValue(const toml::node& node) {
  using Kind = RawValue::Kind;
  switch (node.type()) {
    case toml::node_type::string: return {Kind::kString, node.as_string()->get(), {}, true};
    case toml::node_type::integer:
      return {Kind::kInteger, std::to_string(node.as_integer()->get()), {}, true};
    case toml::node_type::floating_point:
      return {Kind::kFloat, internal::FormatNumber(node.as_floating_point()->get()), {}, true};
    case toml::node_type::boolean:
      return {Kind::kBool, node.as_boolean()->get() ? "true" : "false", {}, true};
    case toml::node_type::array: {
      RawValue value{Kind::kArray, {}, {}, true};
      for (const toml::node& item : *node.as_array()) {
        if (const auto* s = item.as_string()) {
          value.items.push_back(s->get());
        } else {
          value.array_of_strings = false;
        }
      }
      return value;
    }
    case toml::node_type::table: return {Kind::kTable, {}, {}, true};
    default: return {Kind::kDateTime, {}, {}, true};
  }
}

Status ApplyTable(const toml::table& table, const std::string& prefix, const std::string& file,
                  Config& config, Origins& origins) {
  for (auto&& [name, node] : table) {
    std::string key = prefix.empty() ? "" : prefix + ".";
    key += name.str();
    const Setting* setting = internal::FindSettingByKey(key);
    if (setting == nullptr && node.is_table() && internal::IsSettingTable(key)) {
      if (auto ok = ApplyTable(*node.as_table(), key, file, config, origins); !ok) return ok;
      continue;
    }
    if (setting == nullptr) {
      return Fail(Error::InvalidArgument("config file " + file + ": unknown key '" + key + "'" +
                                         Suggestion(key, &Setting::key)));
    }
    std::string label = "config file " + file + ": key '" + key + "' (line " +
                        std::to_string(node.source().begin.line) + ")";
    if (auto ok = Apply(*setting, ToRawValue(node), std::move(label), config, origins); !ok) {
      return ok;
    }
  }
  return {};
}

Status ApplyTomlFile(const std::string& path, Config& config, Origins& origins) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return Fail(Error::NotFound("config file " + path + " does not exist"));
  }
  if (std::filesystem::is_directory(status)) {
    return Fail(Error::InvalidArgument("config file " + path + " is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) {
    return Fail(
        Error::InvalidArgument("config file " + path + " cannot be read: " + std::strerror(errno)));
  }
  toml::table table;
  try {
    table = toml::parse(content.str(), path);
  } catch (const toml::parse_error& e) {
    return Fail(Error::InvalidArgument(
        "config file " + path + ": line " + std::to_string(e.source().begin.line) + ", column " +
        std::to_string(e.source().begin.column) + ": " + std::string(e.description())));
  }
  return ApplyTable(table, "", path, config, origins);
}

// ---------------------------------------------------------------- environment and flags

bool IsReservedEnv(std::string_view name) {
  return std::ranges::any_of(kReservedEnvPrefixes,
                             [&](std::string_view prefix) { return name.starts_with(prefix); });
}

Status ApplyEnvironment(const std::map<std::string, std::string>& env, Config& config,
                        Origins& origins) {
  // Typos first: a misspelt variable silently ignored is the costliest config mistake.
  std::string unknown;
  int unknown_count = 0;
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix) || IsReservedEnv(name) ||
        internal::FindSettingByEnv(name) != nullptr) {
      continue;
    }
    if (unknown_count++ > 0) unknown += "; ";
    unknown += name;
    // VECTORIZE_HF_TOKEN for HF_TOKEN is too far for the edit distance but an obvious slip.
    const Setting* unprefixed = internal::FindSettingByEnv(name.substr(kEnvPrefix.size()));
    unknown += unprefixed != nullptr ? " (did you mean '" + std::string(unprefixed->env) + "'?)"
                                     : Suggestion(name, &Setting::env);
  }
  if (unknown_count > 0) {
    return Fail(Error::InvalidArgument(
        std::string(unknown_count == 1 ? "unknown environment variable "
                                       : "unknown environment variables ") +
        unknown +
        " (VECTORIZE_* variables must name a setting; VECTORIZE_TEST_* and VECTORIZE_PG_* are "
        "reserved for tests)"));
  }
  for (const Setting& setting : AllSettings()) {
    auto it = env.find(std::string(setting.env));
    // Empty counts as unset, so `VECTORIZE_PORT=${PORT}` with PORT unset keeps the lower sources.
    if (it == env.end() || it->second.empty()) continue;
    RawValue value{RawValue::Kind::kText, it->second, {}, true};
    if (auto ok = Apply(setting, value, std::string(setting.env), config, origins); !ok) return ok;
  }
  return {};
}

Status ApplyFlags(const std::map<std::string, std::string>& flags, Config& config,
                  Origins& origins) {
  for (const auto& [key, text] : flags) {
    const Setting* setting = internal::FindSettingByKey(key);
    if (setting == nullptr) {
      return Fail(Error::InvalidArgument("flag for unknown setting '" + key + "'" +
                                         Suggestion(key, &Setting::key)));
    }
    std::string label =
        setting->flag.empty() ? "flag for " + key : "flag " + std::string(setting->flag);
    RawValue value{RawValue::Kind::kText, text, {}, true};
    if (auto ok = Apply(*setting, value, std::move(label), config, origins); !ok) return ok;
  }
  return {};
}

// Rules that involve two settings, checked once every source has been applied.
Status CheckRelations(const Config& c, const Origins& origins) {
  auto describe = [&](std::string_view key, double value) {
    return std::string(key) + " = " + internal::FormatNumber(value) + " (from " +
           OriginOf(origins, key) + ")";
  };
  if (c.heartbeat_seconds >= c.lease_seconds) {
    return Fail(Error::InvalidArgument(
        "heartbeat_seconds must be less than lease_seconds, or leases expire between "
        "heartbeats: " +
        describe("heartbeat_seconds", c.heartbeat_seconds) + ", " +
        describe("lease_seconds", c.lease_seconds)));
  }
  if (c.retry_max_seconds < c.retry_base_seconds) {
    return Fail(Error::InvalidArgument("retry_max_seconds must be at least retry_base_seconds: " +
                                       describe("retry_max_seconds", c.retry_max_seconds) + ", " +
                                       describe("retry_base_seconds", c.retry_base_seconds)));
  }
  return {};
}

// ---------------------------------------------------------------- help text

// Appends `text` word-wrapped to kHelpWidth, every line starting with `indent` spaces.
void AppendWrapped(std::string& out, std::string_view text, std::size_t indent) {
  std::string line(indent, ' ');
  std::istringstream words{std::string(text)};
  for (std::string word; words >> word;) {
    if (line.size() > indent && line.size() + 1 + word.size() > kHelpWidth) {
      out += line + "\n";
      line.assign(indent, ' ');
    }
    if (line.size() > indent) line += ' ';
    line += word;
  }
  out += line + "\n";
}

std::string PadRight(std::string_view s, std::size_t width) {
  std::string out(s);
  out.resize(std::max(width, s.size() + 1), ' ');
  return out;
}

}  // namespace

std::string Config::EffectiveDatabaseUrl() const {
  if (!database_url.empty()) return database_url;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir == "/") dir.clear();
  return "sqlite://" + dir + "/vectorize.db";
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  Origins origins;
  if (sources.config_file) {
    if (auto ok = ApplyTomlFile(*sources.config_file, config, origins); !ok) {
      return Fail(ok.error());
    }
  }
  if (auto ok = ApplyEnvironment(sources.environment, config, origins); !ok) {
    return Fail(ok.error());
  }
  if (auto ok = ApplyFlags(sources.flags, config, origins); !ok) return Fail(ok.error());
  if (auto ok = CheckRelations(config, origins); !ok) return Fail(ok.error());
  return config;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

std::string DescribeConfig(const Config& config) {
  Config shown = config;  // field accessors take Config&; only read here
  std::string out;
  for (const Setting& setting : AllSettings()) {
    internal::FieldRef field = setting.field(shown);
    std::string value;
    if (setting.secret) {
      const bool set = std::visit(
          [](auto* v) {
            if constexpr (requires { v->empty(); }) return !v->empty();
            return true;
          },
          field);
      value = set ? "\"***\"" : internal::FormatValue(field, /*quoted=*/true);
    } else if (auto* text = std::get_if<std::string*>(&field)) {
      // Any URL-shaped string may carry credentials (database_url above all).
      std::string redacted = RedactUrl(**text);
      value = internal::FormatValue(&redacted, /*quoted=*/true);
    } else {
      value = internal::FormatValue(field, /*quoted=*/true);
    }
    out += std::string(setting.key) + " = " + value;
    if (setting.key == "database_url" && config.database_url.empty()) {
      out += "  # " + config.EffectiveDatabaseUrl();
    }
    out += "\n";
  }
  return out;
}

std::string SettingsHelp() {
  std::size_t key_width = 0;
  std::size_t env_width = 0;
  for (const Setting& s : AllSettings()) {
    key_width = std::max(key_width, s.key.size() + 2);
    env_width = std::max(env_width, s.env.size() + 2);
  }
  std::string out;
  AppendWrapped(out,
                "Settings, lowest to highest precedence: built-in defaults, TOML file (--config), "
                "environment, flags. In the TOML file, concurrency.X is key X of a [concurrency] "
                "table. Booleans accept true/false, 1/0, yes/no. An empty environment variable "
                "counts as unset. Unknown TOML keys and unknown VECTORIZE_* variables are errors "
                "(VECTORIZE_TEST_* and VECTORIZE_PG_* are reserved for tests).",
                0);
  out +=
      "\n  " + PadRight("TOML KEY", key_width) + PadRight("ENVIRONMENT", env_width) + "DEFAULT\n";
  const Config defaults;
  Config shown = defaults;
  std::string_view section;
  for (const Setting& s : AllSettings()) {
    if (s.section != section) {
      section = s.section;
      out += '\n';
      out += section;
      out += '\n';
    }
    std::string value = internal::FormatValue(s.field(shown), /*quoted=*/false);
    if (value.empty()) value = "(empty)";
    std::string line = "  " + PadRight(s.key, key_width) + PadRight(s.env, env_width);
    // A default too long for the column goes on a line of its own (the help stays in 100).
    if (line.size() + value.size() > 100) {
      line.erase(line.find_last_not_of(' ') + 1);
      line += "\n      ";
    }
    out += line + value + "\n";
    std::string help(s.help);
    if (!s.flag.empty()) help += " Flag: " + std::string(s.flag) + ".";
    AppendWrapped(out, help, 6);
  }
  return out;
}

std::string RedactUrl(const std::string& url) { return vectorize::RedactUrl(url); }

}  // namespace vectorize::config
