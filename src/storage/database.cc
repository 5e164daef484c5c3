#include "storage/database.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "storage/postgres/connection.h"
#include "storage/postgres/postgres_database.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/sqlite_database.h"

namespace vectorize::storage {

namespace {

std::int64_t ParseInt(const std::string& s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size()) return v;
  // PostgreSQL booleans and numerics in text form.
  if (s == "t" || s == "true") return 1;
  if (s == "f" || s == "false") return 0;
  return static_cast<std::int64_t>(std::strtod(s.c_str(), nullptr));
}

}  // namespace

bool Rows::IsNull(int row, int col) const {
  return std::holds_alternative<std::monostate>(At(row, col));
}

std::int64_t Rows::Int(int row, int col) const {
  const SqlValue& v = At(row, col);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return ParseInt(*s);
  return 0;
}

double Rows::Double(int row, int col) const {
  const SqlValue& v = At(row, col);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

std::string Rows::Text(int row, int col) const {
  const SqlValue& v = At(row, col);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);  // shortest round-trip
  return {};
}

std::optional<std::int64_t> Rows::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}
std::optional<double> Rows::OptDouble(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Double(row, col);
}
std::optional<std::string> Rows::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, int pool_size) {
  if (postgres::IsPostgresUrl(url)) return PostgresDatabase::Open(url, pool_size);
  auto path = sqlite::SqlitePathFromUrl(url);
  if (!path) return Fail(Error::InvalidArgument("unsupported database URL: " + RedactUrl(url)));
  return SqliteDatabase::Open(*path, pool_size);
}

}  // namespace vectorize::storage
