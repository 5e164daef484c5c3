// DatasetStore and DatasetService on a real SQLite database migrated by the task store (the same
// statements run on PostgreSQL in the e2e suite when VECTORIZE_TEST_PG_URL is set).
#include "datasets/dataset_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/uuid.h"
#include "datasets/dataset_service.h"
#include "tasks/sqlite/sqlite_task_store.h"

namespace vectorize::datasets {
namespace {

namespace fs = std::filesystem;

class DatasetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("vz_ds_test_" + std::to_string(rd()));
    fs::create_directories(dir_);
    const std::string path = (dir_ / "v.db").string();
    auto tasks = tasks::SqliteTaskStore::Open({path, 4, true});
    ASSERT_TRUE(tasks) << tasks.error().message;
    tasks_ = std::move(*tasks);
    auto db = storage::Database::Open("sqlite://" + path, 4);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    store_ = std::make_unique<DatasetStore>(*db_);
    service_ = std::make_unique<DatasetService>(*store_, *tasks_,
                                                DatasetServiceOptions{dir_, formats::Limits{}});
    ASSERT_TRUE(service_->Init());
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    db_.reset();
    tasks_.reset();
    fs::remove_all(dir_);
  }

  Dataset Make(std::string name, Micros created) {
    Dataset d;
    d.id = NewUuidV7();
    d.name = std::move(name);
    d.rows = 3;
    d.file_path = "datasets/" + d.id + ".jsonl";
    d.created_at = d.updated_at = created;
    return d;
  }

  fs::path WriteFile(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / "tmp" / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  std::size_t FilesIn(const fs::path& d) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(d), fs::directory_iterator()));
  }

  fs::path dir_;
  std::unique_ptr<tasks::SqliteTaskStore> tasks_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<DatasetStore> store_;
  std::unique_ptr<DatasetService> service_;
};

TEST_F(DatasetStoreTest, InsertGetListNewestFirst) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Insert(Make("d" + std::to_string(i), 1000 + i)));
  auto page = store_->List(2, 1);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->total, 5);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].name, "d3");
  EXPECT_EQ(page->items[1].name, "d2");
  auto got = store_->Get(page->items[0].id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->rows, 3);
  EXPECT_EQ(got->classification, 'D');
  EXPECT_EQ(got->source, DatasetSource::kUpload);
  EXPECT_FALSE(got->hub_tag);
  auto missing = store_->Get(NewUuidV7());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(DatasetStoreTest, NamesAreUnique) {
  ASSERT_TRUE(store_->Insert(Make("same", 1)));
  auto again = store_->Insert(Make("same", 2));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().public_code, "DATASET_ALREADY_EXISTS");
}

TEST_F(DatasetStoreTest, RenameChecksTheVersion) {
  Dataset a = Make("a", 1), b = Make("b", 2);
  ASSERT_TRUE(store_->Insert(a));
  ASSERT_TRUE(store_->Insert(b));
  auto renamed = store_->Rename(a.id, 1, "a2");
  ASSERT_TRUE(renamed) << renamed.error().message;
  EXPECT_EQ(renamed->version, 2);
  EXPECT_EQ(renamed->name, "a2");
  auto stale = store_->Rename(a.id, 1, "a3");
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().public_code, "VERSION_MISMATCH");
  auto taken = store_->Rename(a.id, 2, "b");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().public_code, "DATASET_ALREADY_EXISTS");
  EXPECT_EQ(store_->Get(a.id)->version, 2);
}

TEST_F(DatasetStoreTest, DeleteRefusedWhileAnActiveTaskUsesIt) {
  Dataset a = Make("a", 1);
  ASSERT_TRUE(store_->Insert(a));
  tasks::NewTask t;
  t.type = tasks::TaskType::kTraining;
  t.inputs = R"({"dataset_id":")" + a.id + R"("})";
  auto ids = tasks_->Enqueue(std::span(&t, 1));
  ASSERT_TRUE(ids);
  auto busy = store_->Delete(a.id);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(busy.error().message.find((*ids)[0]), std::string::npos);
  ASSERT_TRUE(tasks_->Cancel((*ids)[0], std::nullopt));
  auto gone = store_->Delete(a.id);
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_FALSE(store_->Get(a.id));
  EXPECT_EQ(store_->Delete(a.id).error().code, ErrorCode::kNotFound);
}

TEST_F(DatasetStoreTest, HubReservationsOneActiveImportPerTag) {
  const std::string first = NewUuidV7();
  EXPECT_TRUE(*store_->ReserveHubTag("org/x", first)) << "free tag";
  EXPECT_FALSE(*store_->ReserveHubTag("org/x", NewUuidV7()))
      << "a fresh holder that has not queued its task yet keeps it";
  // The holder's task never appeared (a crash before enqueue): taken over after the grace.
  ASSERT_TRUE(db_->Query("UPDATE hub_import SET reserved_at = reserved_at - 120000000"));
  const std::string second = NewUuidV7();
  EXPECT_TRUE(*store_->ReserveHubTag("org/x", second));
  tasks::NewTask t;
  t.type = tasks::TaskType::kDatasetUpload;
  t.id = second;
  ASSERT_TRUE(tasks_->Enqueue(std::span(&t, 1)));
  EXPECT_FALSE(*store_->ReserveHubTag("org/x", NewUuidV7())) << "queued holder keeps it";
  ASSERT_TRUE(tasks_->Cancel(second, std::nullopt));
  const std::string third = NewUuidV7();
  EXPECT_TRUE(*store_->ReserveHubTag("org/x", third)) << "cancelled holder loses it";
  ASSERT_TRUE(store_->ReleaseHubTag("org/x", third));
  EXPECT_TRUE(*store_->ReserveHubTag("org/x", NewUuidV7()));
}

TEST_F(DatasetStoreTest, UploadStoresConvertsAndRecordsTasks) {
  const auto ok = WriteFile("in1", "question,answer\nq1,a1\nq2,a2\n");
  const auto empty = WriteFile("in2", "");
  auto outcomes = service_->Upload(
      {{"good.csv", ok}, {"empty.csv", empty}, {"good.csv", ok}, {"x.txt", ok}}, {});
  ASSERT_EQ(outcomes.size(), 4u);
  ASSERT_TRUE(outcomes[0].dataset) << outcomes[0].failure->message;
  EXPECT_EQ(outcomes[0].dataset->name, "good");
  EXPECT_EQ(outcomes[0].dataset->rows, 2);
  ASSERT_TRUE(outcomes[1].failure);
  EXPECT_EQ(outcomes[1].failure->code, "EMPTY_FILE");
  ASSERT_TRUE(outcomes[2].dataset) << "a taken name gets a suffix";
  EXPECT_EQ(outcomes[2].dataset->name, "good_2");
  ASSERT_TRUE(outcomes[3].failure);
  EXPECT_EQ(outcomes[3].failure->code, "UNSUPPORTED_FORMAT");
  EXPECT_EQ(outcomes[3].failure->status, 422);
  // Two files in datasets/, no .part left; the inputs are the caller's and stay.
  EXPECT_EQ(FilesIn(dir_ / "datasets"), 2u);
  EXPECT_TRUE(fs::exists(service_->AbsolutePath(*outcomes[0].dataset)));
  EXPECT_TRUE(fs::exists(ok));
  for (const auto& o : outcomes) {
    auto t = tasks_->Get(o.task_id);
    ASSERT_TRUE(t) << o.filename;
    EXPECT_EQ(t->type, tasks::TaskType::kDatasetUpload);
    EXPECT_EQ(t->status, o.dataset ? tasks::TaskStatus::kDone : tasks::TaskStatus::kFailed);
    EXPECT_NE(t->inputs.find(o.filename), std::string::npos);
    if (o.dataset) {
      EXPECT_NE(t->result->find(o.dataset->id), std::string::npos);
    } else {
      EXPECT_NE(t->error_msg->find(o.failure->code), std::string::npos);
    }
  }
  ASSERT_TRUE(service_->Delete(outcomes[0].dataset->id));
  EXPECT_EQ(FilesIn(dir_ / "datasets"), 1u);
  auto third = service_->Upload({{"good.csv", ok}}, {});
  ASSERT_TRUE(third[0].dataset);
  EXPECT_EQ(third[0].dataset->name, "good") << "the freed name is used again";
  auto fourth = service_->Upload({{"good.csv", ok}}, {});
  EXPECT_EQ(fourth[0].dataset->name, "good_3");
}

}  // namespace
}  // namespace vectorize::datasets
