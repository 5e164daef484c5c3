#pragma once
// Dialect-neutral pieces shared by the SQL stores: parameter values and a statement with its
// parameters. Query builders emit $1..$N placeholders; the SQLite store rewrites them to ?N.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace vectorize::storage {

// A bound parameter value. std::monostate is NULL.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

struct SqlStatement {
  std::string sql;
  std::vector<SqlValue> params;  // params[i] binds $<i+1>
};

enum class Dialect { kSqlite, kPostgres };

}  // namespace vectorize::storage
