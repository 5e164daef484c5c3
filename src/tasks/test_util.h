#pragma once
// Helpers shared by the tasks tests: a fresh SQLite store in a temp dir.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "tasks/sqlite/sqlite_task_store.h"

namespace vectorize::tasks::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("vz-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<SqliteTaskStore> OpenStore(const TempDir& dir) {
  auto store = SqliteTaskStore::Open({(dir.path() / "vectorize.db").string()});
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

}  // namespace vectorize::tasks::testing
