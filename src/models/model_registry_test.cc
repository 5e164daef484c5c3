// ModelRegistry on SQLite always and on PostgreSQL when VECTORIZE_TEST_PG_URL is set.
#include "models/model_registry.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "storage/migrations.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/sqlite/connection.h"

namespace vectorize::models {
namespace {

class ModelRegistryTest : public ::testing::TestWithParam<storage::Dialect> {
 protected:
  void SetUp() override {
    std::random_device rd;
    const std::string unique = std::to_string(rd()) + "_" + std::to_string(rd());
    if (GetParam() == storage::Dialect::kSqlite) {
      path_ = std::filesystem::temp_directory_path() / ("vz_models_reg_" + unique + ".db");
      auto conn = storage::sqlite::Connection::Open(path_.string());
      ASSERT_TRUE(conn) << conn.error().message;
      ASSERT_TRUE(storage::MigrateSqlite(**conn));
      url_ = "sqlite://" + path_.string();
    } else {
      const char* base = std::getenv("VECTORIZE_TEST_PG_URL");
      if (base == nullptr || *base == '\0') GTEST_SKIP() << "VECTORIZE_TEST_PG_URL is not set";
      base_ = base;
      schema_ = "vz_models_reg_" + unique;
      auto admin = storage::postgres::Connection::Open({base_});
      ASSERT_TRUE(admin) << admin.error().message;
      ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA " + schema_));
      url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + schema_;
      auto conn = storage::postgres::Connection::Open({url_});
      ASSERT_TRUE(conn) << conn.error().message;
      ASSERT_TRUE(storage::postgres::Migrate(**conn));
    }
    auto db = storage::Database::Open(url_, 2);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    registry_ = std::make_unique<ModelRegistry>(*db_);
  }
  void TearDown() override {
    registry_.reset();
    db_.reset();
    if (!path_.empty())
      for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + s);
    if (!schema_.empty()) {
      auto admin = storage::postgres::Connection::Open({base_});
      if (admin) (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }

  Model Local(std::string tag) {
    Model m;
    m.tag = tag;
    m.name = "name of " + tag;
    m.source = ModelSource::kLocal;
    m.dim = 384;
    m.normalize = true;
    m.pooling = "mean";
    m.size_bytes = 1234;
    return m;
  }
  static std::string Why(const Status& s) { return s ? "" : s.error().message; }
  template <typename T>
  static std::string Why(const Result<T>& r) {
    return r ? "" : r.error().message;
  }

  std::filesystem::path path_;
  std::string base_, schema_, url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<ModelRegistry> registry_;
};

TEST_P(ModelRegistryTest, ReservationThenActivation) {
  Model m;
  m.tag = "org--tiny";
  m.name = "org/tiny";
  m.source = ModelSource::kHub;
  m.hub_repo = "org/tiny";
  m.task_id = "task-1";
  auto reserved = registry_->Reserve(m);
  ASSERT_TRUE(reserved) << Why(reserved);
  // Reserved tags are taken but invisible.
  auto again = registry_->Reserve(m);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().message.find("being imported"), std::string::npos);
  EXPECT_EQ(registry_->GetByTag("org--tiny").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(registry_->List(1, 5)->total, 0);
  // Another task cannot activate or release it.
  Model other = m;
  other.task_id = "task-2";
  EXPECT_EQ(registry_->Activate(other).error().code, ErrorCode::kAborted);
  ASSERT_TRUE(registry_->Release("org--tiny", "task-2"));
  m.dim = 32;
  m.hub_commit = "abc";
  auto ready = registry_->Activate(m);
  ASSERT_TRUE(ready) << ready.error().message;
  EXPECT_EQ(ready->state, 'R');
  EXPECT_EQ(ready->dim, 32);
  auto got = registry_->GetByTag("org--tiny");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->hub_commit, "abc");
  EXPECT_EQ(got->source, ModelSource::kHub);
  auto taken = registry_->Insert(Local("org--tiny"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().public_code, "MODEL_ALREADY_EXISTS");
  EXPECT_NE(taken.error().message.find("already exists"), std::string::npos);
}

TEST_P(ModelRegistryTest, ReleasedReservationFreesTheTag) {
  Model m = Local("x");
  m.task_id = "t";
  ASSERT_TRUE(registry_->Reserve(m));
  ASSERT_TRUE(registry_->Release("x", "t"));
  EXPECT_EQ(registry_->FindTag("x").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(registry_->Insert(Local("x")));
}

TEST_P(ModelRegistryTest, ListRenameRemove) {
  for (int i = 0; i < 7; ++i) {
    Model m = Local("m" + std::to_string(i));
    m.created_at = 1'000'000 + i;
    auto ins = registry_->Insert(m);
    ASSERT_TRUE(ins) << Why(ins);
  }
  auto p1 = registry_->List(1, 5);
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->total, 7);
  ASSERT_EQ(p1->items.size(), 5u);
  EXPECT_EQ(p1->items.front().tag, "m6");
  EXPECT_EQ(p1->items.front().normalize, true);
  auto p2 = registry_->List(2, 5);
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_EQ(p2->items.back().tag, "m0");
  const std::string id = p1->items.front().id;
  auto renamed = registry_->Rename(id, "new", 0);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->version, 1);
  EXPECT_EQ(renamed->name, "new");
  auto stale = registry_->Rename(id, "newer", 0);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().public_code, "VERSION_MISMATCH");
  EXPECT_EQ(registry_->Rename("nope", "x", 0).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(registry_->Remove(id));
  EXPECT_EQ(registry_->Remove(id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(registry_->List(1, 100)->total, 6);
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelRegistryTest,
                         ::testing::Values(storage::Dialect::kSqlite, storage::Dialect::kPostgres),
                         [](const auto& info) {
                           return info.param == storage::Dialect::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace vectorize::models
