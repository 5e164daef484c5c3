#include "datasets/dataset_store.h"

#include "tasks/task.h"

namespace vectorize::datasets {
namespace {

using storage::Rows;
using storage::SqlValue;

constexpr const char* kColumns =
    "id, name, classification, version, row_count, file_path, source, synthesis_id, hub_tag, "
    "hub_revision, created_at, updated_at";

const std::string kInsert = std::string("INSERT INTO datasets (") + kColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const std::string kGet = std::string("SELECT ") + kColumns + " FROM datasets WHERE id = $1";
const std::string kList = std::string("SELECT ") + kColumns +
                          " FROM datasets ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
constexpr const char* kCount = "SELECT COUNT(*) FROM datasets";
constexpr const char* kNameTaken = "SELECT 1 FROM datasets WHERE name = $1";
// substr, not LIKE: stems contain '_', a LIKE wildcard.
constexpr const char* kNamesWithPrefix =
    "SELECT name FROM datasets WHERE substr(name, 1, length($1)) = $1";
constexpr const char* kRename =
    "UPDATE datasets SET name = $1, version = version + 1, updated_at = $2 "
    "WHERE id = $3 AND version = $4";
constexpr const char* kDelete = "DELETE FROM datasets WHERE id = $1";
const std::string kByHubTag = std::string("SELECT ") + kColumns +
                              " FROM datasets WHERE hub_tag = $1 ORDER BY created_at LIMIT 1";
constexpr const char* kHubHolder =
    "SELECT task_id, reserved_at FROM hub_import WHERE dataset_tag = $1";
constexpr const char* kHubInsert =
    "INSERT INTO hub_import (dataset_tag, task_id, reserved_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (dataset_tag) DO NOTHING";
constexpr const char* kHubTakeOver =
    "UPDATE hub_import SET task_id = $1, reserved_at = $4 WHERE dataset_tag = $2 AND task_id = $3";
constexpr const char* kHubRelease =
    "DELETE FROM hub_import WHERE dataset_tag = $1 AND task_id = $2";
constexpr const char* kHubHolderStatus =
    "SELECT task_status FROM dataset_upload_task WHERE id = $1";

// A reservation whose task row does not exist is a crashed submitter's only after this long.
constexpr Micros kHolderGrace = 60 * kMicrosPerSecond;

Dataset FromRow(const Rows& r, int i) {
  Dataset d;
  d.id = r.Text(i, 0);
  d.name = r.Text(i, 1);
  const std::string c = r.Text(i, 2);
  d.classification = c.empty() ? 'D' : c[0];
  d.version = r.Int(i, 3);
  d.rows = r.Int(i, 4);
  d.file_path = r.Text(i, 5);
  const std::string s = r.Text(i, 6);
  d.source = static_cast<DatasetSource>(s.empty() ? 'U' : s[0]);
  d.synthesis_id = r.OptText(i, 7);
  d.hub_tag = r.OptText(i, 8);
  d.hub_revision = r.OptText(i, 9);
  d.created_at = r.Int(i, 10);
  d.updated_at = r.Int(i, 11);
  return d;
}

SqlValue Opt(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}

Error NameExists(std::string_view name) {
  Error e = Error::AlreadyExists("A dataset named '" + std::string(name) + "' already exists");
  e.public_code = "DATASET_ALREADY_EXISTS";
  return e;
}

Error NotFound(std::string_view id) {
  return Error::NotFound("Dataset with ID " + std::string(id) + " not found");
}

}  // namespace

Status DatasetStore::Insert(const Dataset& d) {
  auto r = db_.Query(
      kInsert, {d.id, d.name, std::string(1, d.classification), d.version, d.rows, d.file_path,
                std::string(1, static_cast<char>(d.source)), Opt(d.synthesis_id), Opt(d.hub_tag),
                Opt(d.hub_revision), d.created_at, d.updated_at});
  if (!r) {
    if (r.error().code == ErrorCode::kAlreadyExists) return Fail(NameExists(d.name));
    return Fail(r.error());
  }
  return {};
}

Result<Dataset> DatasetStore::Get(std::string_view id) {
  auto r = db_.Query(kGet, {std::string(id)});
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(NotFound(id));
  return FromRow(*r, 0);
}

Result<DatasetPage> DatasetStore::List(std::int64_t limit, std::int64_t offset) {
  DatasetPage page;
  auto r = db_.Query(kList, {limit, offset});
  if (!r) return Fail(r.error());
  for (int i = 0; i < r->size(); ++i) page.items.push_back(FromRow(*r, i));
  auto c = db_.Query(kCount);
  if (!c) return Fail(c.error());
  page.total = c->Int(0, 0);
  return page;
}

Result<bool> DatasetStore::NameTaken(std::string_view name) {
  auto r = db_.Query(kNameTaken, {std::string(name)});
  if (!r) return Fail(r.error());
  return !r->empty();
}

Result<std::vector<std::string>> DatasetStore::NamesWithPrefix(std::string_view prefix) {
  auto r = db_.Query(kNamesWithPrefix, {std::string(prefix)});
  if (!r) return Fail(r.error());
  std::vector<std::string> out;
  for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
  return out;
}

Result<Dataset> DatasetStore::Rename(std::string_view id, std::int64_t expected_version,
                                     std::string_view name) {
  Dataset out;
  auto s = db_.Transaction([&](storage::Session& session) -> Status {
    auto cur = session.Query(kGet, {std::string(id)});
    if (!cur) return Fail(cur.error());
    if (cur->empty()) return Fail(NotFound(id));
    out = FromRow(*cur, 0);
    if (out.version != expected_version) {
      Error e = Error::FailedPrecondition("Dataset " + std::string(id) + " is at version " +
                                          std::to_string(out.version) + ", not " +
                                          std::to_string(expected_version));
      e.public_code = "VERSION_MISMATCH";
      return Fail(std::move(e));
    }
    if (out.name == name) return {};  // nothing changes; the version stays
    const Micros now = NowMicros();
    auto u = session.Query(kRename, {std::string(name), now, std::string(id), expected_version});
    if (!u) {
      if (u.error().code == ErrorCode::kAlreadyExists) return Fail(NameExists(name));
      return Fail(u.error());
    }
    out.name = std::string(name);
    out.version += 1;
    out.updated_at = now;
    return {};
  });
  if (!s) return Fail(s.error());
  return out;
}

Result<Dataset> DatasetStore::Delete(std::string_view id) {
  Dataset out;
  auto s = db_.Transaction([&](storage::Session& session) -> Status {
    auto cur = session.Query(kGet, {std::string(id)});
    if (!cur) return Fail(cur.error());
    if (cur->empty()) return Fail(NotFound(id));
    out = FromRow(*cur, 0);
    // Any task type may take datasets as input (training, evaluation…); their inputs name the
    // dataset's id, which is a UUID, so a substring match is exact.
    for (tasks::TaskType type : tasks::kAllTaskTypes) {
      const std::string sql = "SELECT id FROM " + std::string(tasks::TaskTable(type)) +
                              " WHERE (task_status = 'Q' OR task_status = 'R') AND inputs LIKE "
                              "'%' || $1 || '%' LIMIT 1";
      auto busy = session.Query(sql, {std::string(id)});
      if (!busy) return Fail(busy.error());
      if (!busy->empty()) {
        Error e = Error::FailedPrecondition("Dataset " + std::string(id) + " is used by " +
                                            std::string(tasks::TaskTypeName(type)) + " task " +
                                            busy->Text(0, 0) + ", which is queued or running");
        e.public_code = "CONFLICT";
        return Fail(std::move(e));
      }
    }
    auto d = session.Query(kDelete, {std::string(id)});
    if (!d) return Fail(d.error());
    return {};
  });
  if (!s) return Fail(s.error());
  return out;
}

Result<std::optional<Dataset>> DatasetStore::FindByHubTag(std::string_view tag) {
  auto r = db_.Query(kByHubTag, {std::string(tag)});
  if (!r) return Fail(r.error());
  if (r->empty()) return std::optional<Dataset>{};
  return std::optional<Dataset>(FromRow(*r, 0));
}

Result<bool> DatasetStore::ReserveHubTag(std::string_view tag, std::string_view task_id) {
  bool reserved = false;
  const Micros now = NowMicros();
  auto s = db_.Transaction([&](storage::Session& session) -> Status {
    reserved = false;
    auto holder = session.Query(kHubHolder, {std::string(tag)});
    if (!holder) return Fail(holder.error());
    if (holder->empty()) {
      // ON CONFLICT: another request reserved it between our read and insert, and it wins.
      auto ins = session.Query(kHubInsert, {std::string(tag), std::string(task_id), now});
      if (!ins) return Fail(ins.error());
      reserved = ins->affected() == 1;
      return {};
    }
    const std::string old = holder->Text(0, 0);
    const Micros reserved_at = holder->Int(0, 1);
    auto status = session.Query(kHubHolderStatus, {old});
    if (!status) return Fail(status.error());
    if (!status->empty()) {
      const std::string st = status->Text(0, 0);
      if (st == "Q" || st == "R") return {};
    } else if (now - reserved_at < kHolderGrace) {
      // The holder reserved the tag but has not queued its task yet (it does so right after).
      return {};
    }
    auto up = session.Query(kHubTakeOver, {std::string(task_id), std::string(tag), old, now});
    if (!up) return Fail(up.error());
    reserved = up->affected() == 1;
    return {};
  });
  if (!s) return Fail(s.error());
  return reserved;
}

Status DatasetStore::ReleaseHubTag(std::string_view tag, std::string_view task_id) {
  auto r = db_.Query(kHubRelease, {std::string(tag), std::string(task_id)});
  if (!r) return Fail(r.error());
  return {};
}

}  // namespace vectorize::datasets
