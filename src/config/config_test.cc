#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/settings.h"

namespace vectorize::config {
namespace {

// Substring checks that print both strings on failure.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "missing: " << part << "\nin: " << text;
}
::testing::AssertionResult LacksText(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "unexpected: " << part << "\nin: " << text;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("vectorize_config_test_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteToml(const std::string& content) {
    const std::string path = (dir_ / "vectorize.toml").string();
    std::ofstream(path) << content;
    return path;
  }

  // Loads with only the given TOML text.
  Result<Config> LoadToml(const std::string& content) {
    return LoadConfig({.config_file = WriteToml(content), .environment = {}, .flags = {}});
  }
  static Result<Config> LoadEnv(std::map<std::string, std::string> env) {
    return LoadConfig({.config_file = std::nullopt, .environment = std::move(env), .flags = {}});
  }
  static Result<Config> LoadFlags(std::map<std::string, std::string> flags) {
    return LoadConfig({.config_file = std::nullopt, .environment = {}, .flags = std::move(flags)});
  }

  std::filesystem::path dir_;
};

// Expects an invalid_argument error whose message contains every one of `parts`.
void ExpectInvalid(const Result<Config>& result, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().message;
  for (const std::string& part : parts) EXPECT_TRUE(Contains(result.error().message, part));
}

TEST_F(ConfigTest, NoSourcesGivesTheBuiltInDefaults) {
  auto config = LoadConfig({});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->host, "127.0.0.1");
  EXPECT_EQ(config->port, 8000);
  EXPECT_EQ(config->data_dir, "./data");
  EXPECT_EQ(config->database_url, "");
  EXPECT_TRUE(config->run_workers);
  EXPECT_EQ(config->concurrency.training, 1);
  EXPECT_EQ(config->hf_endpoint, "https://huggingface.co");
  EXPECT_EQ(config->log_level, "info");
}

TEST_F(ConfigTest, PrecedenceIsDefaultsThenTomlThenEnvThenFlags) {
  const std::string path = WriteToml(R"(
host = "0.0.0.0"
port = 9000
log_level = "debug"
lease_seconds = 60
[concurrency]
training = 2
)");
  auto config = LoadConfig({.config_file = path,
                            .environment = {{"VECTORIZE_PORT", "9100"},
                                            {"VECTORIZE_LOG_LEVEL", "warn"},
                                            {"VECTORIZE_CONCURRENCY_TRAINING", "3"},
                                            {"VECTORIZE_DATA_DIR", "/srv/env"}},
                            .flags = {{"port", "9200"}, {"data_dir", "/srv/flag"}}});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->http_threads, 2);              // default only
  EXPECT_EQ(config->host, "0.0.0.0");              // TOML over default
  EXPECT_EQ(config->lease_seconds, 60);            // TOML over default
  EXPECT_EQ(config->log_level, "warn");            // env over TOML
  EXPECT_EQ(config->concurrency.training, 3);      // env over TOML table
  EXPECT_EQ(config->port, 9200);                   // flag over env over TOML
  EXPECT_EQ(config->data_dir, "/srv/flag");        // flag over env
  EXPECT_EQ(config->concurrency.model_upload, 4);  // default inside a partly set table
}

TEST_F(ConfigTest, TomlConcurrencyTableAndInlineTable) {
  auto table = LoadToml(
      "[concurrency]\nmodel_upload = 0\ndataset_upload = 8\ntraining = 64\nevaluation = 2\n"
      "synthesis = 5\n");
  ASSERT_TRUE(table.has_value()) << table.error().message;
  EXPECT_EQ(table->concurrency.model_upload, 0);
  EXPECT_EQ(table->concurrency.dataset_upload, 8);
  EXPECT_EQ(table->concurrency.training, 64);
  EXPECT_EQ(table->concurrency.evaluation, 2);
  EXPECT_EQ(table->concurrency.synthesis, 5);

  auto inline_table = LoadToml("concurrency = { training = 3 }\n");
  ASSERT_TRUE(inline_table.has_value()) << inline_table.error().message;
  EXPECT_EQ(inline_table->concurrency.training, 3);
}

TEST_F(ConfigTest, TomlAllTypesRoundTrip) {
  auto config = LoadToml(R"(
api_prefix = "/api"
max_upload_bytes = 1048576
api_keys = ["k1", " k2 "]
migrate_on_start = false
run_workers = false
lease_seconds = 45.5
heartbeat_seconds = 15
hf_token = "hf_abc"
log_format = "json"
)");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->api_prefix, "/api");
  EXPECT_EQ(config->max_upload_bytes, 1048576u);
  EXPECT_EQ(config->api_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_FALSE(config->migrate_on_start);
  EXPECT_FALSE(config->run_workers);
  EXPECT_DOUBLE_EQ(config->lease_seconds, 45.5);
  EXPECT_DOUBLE_EQ(config->heartbeat_seconds, 15);  // a TOML integer is fine for seconds
  EXPECT_EQ(config->hf_token, "hf_abc");
  EXPECT_EQ(config->log_format, "json");
}

TEST_F(ConfigTest, ApiKeysFromCommaStrings) {
  auto env = LoadEnv({{"VECTORIZE_API_KEYS", "a, b,,c "}});
  ASSERT_TRUE(env.has_value()) << env.error().message;
  EXPECT_EQ(env->api_keys, (std::vector<std::string>{"a", "b", "c"}));

  auto toml = LoadToml("api_keys = \"x,y\"\n");
  ASSERT_TRUE(toml.has_value()) << toml.error().message;
  EXPECT_EQ(toml->api_keys, (std::vector<std::string>{"x", "y"}));

  ExpectInvalid(LoadToml("api_keys = [\"x\", 1]\n"), {"key 'api_keys'", "array of strings"});
}

TEST_F(ConfigTest, RemoteServiceVariablesHaveNoPrefix) {
  auto config = LoadEnv({{"HF_ENDPOINT", "https://hf-mirror.example"},
                         {"HF_TOKEN", "hf_secret"},
                         {"GITHUB_API_URL", "https://ghe.example/api/v3"},
                         {"GITHUB_TOKEN", "ghp_secret"}});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->hf_endpoint, "https://hf-mirror.example");
  EXPECT_EQ(config->hf_token, "hf_secret");
  EXPECT_EQ(config->github_api_url, "https://ghe.example/api/v3");
  EXPECT_EQ(config->github_token, "ghp_secret");
}

TEST_F(ConfigTest, EmptyEnvironmentVariableCountsAsUnset) {
  const std::string path = WriteToml("port = 9000\n");
  auto config =
      LoadConfig({.config_file = path, .environment = {{"VECTORIZE_PORT", ""}}, .flags = {}});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->port, 9000);
}

TEST_F(ConfigTest, UnknownTomlKeyNamesFileAndKey) {
  const std::string path = WriteToml("prot = 8080\n");
  auto result = LoadConfig({.config_file = path, .environment = {}, .flags = {}});
  ExpectInvalid(result, {"config file " + path, "unknown key 'prot'", "did you mean 'port'"});
}

TEST_F(ConfigTest, UnknownKeysInsideAndOutsideTables) {
  ExpectInvalid(LoadToml("[concurrency]\ntrainng = 2\n"),
                {"unknown key 'concurrency.trainng'", "concurrency.training"});
  ExpectInvalid(LoadToml("[server]\nport = 1\n"), {"unknown key 'server'"});
  // A setting given as a table is a type error, not a silent pass.
  ExpectInvalid(LoadToml("[port]\nvalue = 1\n"),
                {"key 'port'", "expected an integer, got a table"});
}

TEST_F(ConfigTest, TomlWrongTypeNamesKeyAndLine) {
  ExpectInvalid(LoadToml("host = \"h\"\nport = \"8000\"\n"),
                {"key 'port' (line 2)", "expected an integer, got a string"});
  ExpectInvalid(LoadToml("run_workers = \"yes\"\n"), {"expected a boolean, got a string"});
  ExpectInvalid(LoadToml("host = 1\n"), {"expected a string, got an integer"});
}

TEST_F(ConfigTest, UnknownVectorizeVariableIsAnError) {
  auto result = LoadEnv({{"VECTORIZE_PROT", "1"}, {"VECTORIZE_PORT", "9000"}});
  ExpectInvalid(result, {"unknown environment variable VECTORIZE_PROT", "VECTORIZE_PORT"});
  // The remote-service names are not VECTORIZE_-prefixed; the prefixed spelling is a typo.
  ExpectInvalid(LoadEnv({{"VECTORIZE_HF_TOKEN", "x"}}), {"VECTORIZE_HF_TOKEN", "'HF_TOKEN'"});
}

TEST_F(ConfigTest, ReservedAndForeignVariablesAreAccepted) {
  auto config = LoadEnv({{"VECTORIZE_TEST_DATA", "/tmp/x"},
                         {"VECTORIZE_PG_URL", "postgresql://ci@localhost/ci"},
                         {"PATH", "/usr/bin"},
                         {"HF_HOME", "/cache"},
                         {"VECTORIZE", "1"}});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->database_url, "");  // VECTORIZE_PG_URL is not a setting
}

TEST_F(ConfigTest, UnknownFlagKeyIsAnError) {
  ExpectInvalid(LoadFlags({{"data-dir", "/x"}}), {"unknown setting 'data-dir'", "data_dir"});
}

TEST_F(ConfigTest, ValueErrorsNameTheSource) {
  ExpectInvalid(LoadEnv({{"VECTORIZE_PORT", "abc"}}), {"VECTORIZE_PORT: not an integer: 'abc'"});
  ExpectInvalid(LoadFlags({{"port", "70000"}}),
                {"flag --port: port must be between 0 and 65535, got 70000"});
  ExpectInvalid(LoadFlags({{"http_threads", "0"}}), {"flag for http_threads"});
  ExpectInvalid(LoadFlags({{"run_workers", "maybe"}}), {"flag --no-workers", "not a boolean"});
}

struct RuleCase {
  std::string key;
  std::string value;
  bool valid;
  std::string message;  // expected part of the error when !valid
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.key << "=" << c.value; }

class ValidationTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ValidationTest, FlagValueIsCheckedByItsRule) {
  const RuleCase& c = GetParam();
  auto result =
      LoadConfig({.config_file = std::nullopt, .environment = {}, .flags = {{c.key, c.value}}});
  if (c.valid) {
    EXPECT_TRUE(result.has_value()) << c.key << "=" << c.value << ": " << result.error().message;
  } else {
    ExpectInvalid(result, {c.message});
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidationTest,
    ::testing::Values(
        RuleCase{"port", "0", true, ""}, RuleCase{"port", "65535", true, ""},
        RuleCase{"port", "65536", false, "between 0 and 65535"},
        RuleCase{"port", "-1", false, "between 0 and 65535"},
        RuleCase{"port", "80x", false, "not an integer"}, RuleCase{"http_threads", "1", true, ""},
        RuleCase{"http_threads", "256", true, ""},
        RuleCase{"http_threads", "0", false, "between 1 and 256"},
        RuleCase{"http_threads", "257", false, "between 1 and 256"},
        RuleCase{"http_max_waiting", "0", true, ""},
        RuleCase{"http_max_waiting", "-1", false, "between 0 and 1000000"},
        RuleCase{"concurrency.training", "0", true, ""},
        RuleCase{"concurrency.synthesis", "64", true, ""},
        RuleCase{"concurrency.evaluation", "65", false, "between 0 and 64"},
        RuleCase{"concurrency.model_upload", "-1", false, "between 0 and 64"},
        RuleCase{"lease_seconds", "0", false, "greater than 0"},
        RuleCase{"lease_seconds", "-5", false, "greater than 0"},
        RuleCase{"lease_seconds", "inf", false, "not a number"},
        RuleCase{"heartbeat_seconds", "0", false, "greater than 0"},
        RuleCase{"heartbeat_seconds", "29.9", true, ""},
        RuleCase{"heartbeat_seconds", "30", false, "must be less than lease_seconds"},
        RuleCase{"rescue_interval_seconds", "0", false, "greater than 0"},
        RuleCase{"max_attempts", "1", true, ""}, RuleCase{"max_attempts", "0", false, "at least 1"},
        RuleCase{"retry_base_seconds", "0", false, "greater than 0"},
        RuleCase{"retry_base_seconds", "300", true, ""},
        RuleCase{"retry_base_seconds", "301", false, "retry_max_seconds must be at least"},
        RuleCase{"retry_max_seconds", "1", false, "retry_max_seconds must be at least"},
        RuleCase{"max_request_bytes", "0", false, "at least 1"},
        RuleCase{"max_attempts", "3000000000", false, "max_attempts is too large"},
        RuleCase{"max_upload_bytes", "99999999999999999999", false, "max_upload_bytes must be"},
        RuleCase{"log_level", "trace", true, ""}, RuleCase{"log_level", "off", true, ""},
        RuleCase{"log_level", "verbose", false, "not one of trace, debug, info, warn, error, off"},
        RuleCase{"log_format", "json", true, ""},
        RuleCase{"log_format", "xml", false, "not one of text, json"},
        RuleCase{"database_url", "", true, ""},
        RuleCase{"database_url", "sqlite:///tmp/v.db", true, ""},
        RuleCase{"database_url", "postgresql://u:p@h:5432/db", true, ""},
        RuleCase{"database_url", "postgres://h/db", true, ""},
        RuleCase{"database_url", "mysql://h/db", false, "must start with sqlite://"},
        RuleCase{"hf_endpoint", "huggingface.co", false, "must start with http"},
        RuleCase{"api_prefix", "v1", false, "start with '/'"},
        RuleCase{"data_dir", "", false, "must not be empty"},
        RuleCase{"migrate_on_start", "yes", true, ""}, RuleCase{"migrate_on_start", "NO", true, ""},
        RuleCase{"migrate_on_start", "1", true, ""}, RuleCase{"run_workers", "0", true, ""},
        RuleCase{"run_workers", "False", true, ""},
        RuleCase{"run_workers", "off", false, "not a boolean"}));

TEST_F(ConfigTest, BooleanSpellings) {
  for (auto [text, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                         {"yes", true},
                                                                         {"1", true},
                                                                         {"false", false},
                                                                         {"no", false},
                                                                         {"0", false}}) {
    auto config = LoadEnv({{"VECTORIZE_MIGRATE_ON_START", text}});
    ASSERT_TRUE(config.has_value()) << text << ": " << config.error().message;
    EXPECT_EQ(config->migrate_on_start, expected) << text;
  }
}

TEST_F(ConfigTest, RelationErrorsSayWhereEachValueCameFrom) {
  ExpectInvalid(LoadEnv({{"VECTORIZE_HEARTBEAT_SECONDS", "40"}}),
                {"heartbeat_seconds = 40 (from VECTORIZE_HEARTBEAT_SECONDS)",
                 "lease_seconds = 30 (from default)"});
}

TEST_F(ConfigTest, RejectedDatabaseUrlIsEchoedWithoutPassword) {
  auto result = LoadEnv({{"VECTORIZE_DATABASE_URL", "mysql://u:hunter2@h/db"}});
  ExpectInvalid(result, {"VECTORIZE_DATABASE_URL", "mysql://u:***@h/db"});
  EXPECT_TRUE(LacksText(result.error().message, "hunter2"));
}

TEST_F(ConfigTest, MissingFileIsNotFound) {
  const std::string path = (dir_ / "nope.toml").string();
  auto result = LoadConfig({.config_file = path, .environment = {}, .flags = {}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(result.error().message, path));
}

TEST_F(ConfigTest, ParseErrorGivesFileLineAndColumn) {
  const std::string path = WriteToml("host = \"x\"\nport = = 3\n");
  auto result = LoadConfig({.config_file = path, .environment = {}, .flags = {}});
  ExpectInvalid(result, {"config file " + path, "line 2, column"});
}

TEST(EffectiveDatabaseUrlTest, SqliteUnderDataDirUnlessSet) {
  Config config;
  EXPECT_EQ(config.EffectiveDatabaseUrl(), "sqlite://./data/vectorize.db");
  config.data_dir = "/var/lib/v";
  EXPECT_EQ(config.EffectiveDatabaseUrl(), "sqlite:///var/lib/v/vectorize.db");
  config.data_dir = "/var/lib/v/";
  EXPECT_EQ(config.EffectiveDatabaseUrl(), "sqlite:///var/lib/v/vectorize.db");
  config.data_dir = "/";
  EXPECT_EQ(config.EffectiveDatabaseUrl(), "sqlite:///vectorize.db");
  config.database_url = "postgresql://u:p@db:5432/vz";
  EXPECT_EQ(config.EffectiveDatabaseUrl(), "postgresql://u:p@db:5432/vz");
}

TEST(RedactUrlTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("postgres://u:p@ss/w@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrl("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://u@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(RedactUrl("sqlite:///var/lib/v/vectorize.db"), "sqlite:///var/lib/v/vectorize.db");
  EXPECT_EQ(RedactUrl("https://huggingface.co"), "https://huggingface.co");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
}

TEST(DescribeConfigTest, ListsEverySettingWithSecretsRedacted) {
  Config config;
  config.hf_token = "hf_topsecret";
  config.api_keys = {"key-one", "key-two"};
  config.database_url = "postgresql://vz:dbpass@db:5432/vz";
  const std::string text = DescribeConfig(config);
  EXPECT_TRUE(Contains(text, "hf_token = \"***\"\n"));
  EXPECT_TRUE(Contains(text, "api_keys = \"***\"\n"));
  EXPECT_TRUE(Contains(text, "github_token = \"\"\n"));  // unset secrets show as empty
  EXPECT_TRUE(Contains(text, "database_url = \"postgresql://vz:***@db:5432/vz\"\n"));
  EXPECT_TRUE(Contains(text, "port = 8000\n"));
  EXPECT_TRUE(Contains(text, "concurrency.training = 1\n"));
  EXPECT_TRUE(Contains(text, "lease_seconds = 30\n"));
  for (const char* secret : {"hf_topsecret", "key-one", "key-two", "dbpass"}) {
    EXPECT_TRUE(LacksText(text, secret));
  }
  std::istringstream lines(text);
  std::vector<std::string> keys;
  for (std::string line; std::getline(lines, line);)
    keys.push_back(line.substr(0, line.find(" = ")));
  ASSERT_EQ(keys.size(), internal::AllSettings().size());
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(keys[i], internal::AllSettings()[i].key);
}

TEST(DescribeConfigTest, EmptyDatabaseUrlShowsTheEffectiveOne) {
  EXPECT_TRUE(
      Contains(DescribeConfig(Config{}), "database_url = \"\"  # sqlite://./data/vectorize.db\n"));
}

TEST(SettingsHelpTest, EverySettingDocumentedWithin100Columns) {
  const std::string help = SettingsHelp();
  for (const auto& setting : internal::AllSettings()) {
    EXPECT_TRUE(Contains(help, std::string(setting.key))) << setting.key;
    EXPECT_TRUE(Contains(help, std::string(setting.env))) << setting.env;
    EXPECT_FALSE(setting.help.empty()) << setting.key;
  }
  EXPECT_TRUE(Contains(help, "https://huggingface.co"));  // defaults are shown
  EXPECT_TRUE(Contains(help, "--no-workers"));
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}

TEST(SettingsTableTest, EnvironmentNamesFollowTheKeys) {
  for (const auto& setting : internal::AllSettings()) {
    std::string expected(setting.key);
    for (char& c : expected) c = c == '.' ? '_' : static_cast<char>(std::toupper(c));
    if (!setting.env.starts_with("HF_") && !setting.env.starts_with("GITHUB_")) {
      expected = "VECTORIZE_" + expected;
    }
    EXPECT_EQ(setting.env, expected);
  }
}

TEST(ProcessEnvironmentTest, ReadsTheProcessEnvironment) {
  ASSERT_EQ(::setenv("VECTORIZE_TEST_PROCESS_ENV", "a=b", 1), 0);
  auto env = ProcessEnvironment();
  EXPECT_EQ(env["VECTORIZE_TEST_PROCESS_ENV"], "a=b");
  ::unsetenv("VECTORIZE_TEST_PROCESS_ENV");
}

}  // namespace
}  // namespace vectorize::config
