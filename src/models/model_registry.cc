#include "models/model_registry.h"

#include <fmt/format.h>

#include "common/uuid.h"

namespace vectorize::models {
namespace {

using storage::SqlValue;

constexpr const char* kColumns =
    "id, tag, name, path, source, hub_repo, hub_revision, hub_commit, github_owner, github_repo, "
    "github_ref, github_path, trained_from_id, version, architecture, dim, max_seq_length, "
    "pooling, normalize, size_bytes, created_at, updated_at, state, task_id";

SqlValue Opt(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}
SqlValue OptI(const std::optional<int>& v) {
  return v ? SqlValue(std::int64_t(*v)) : SqlValue(std::monostate{});
}
SqlValue OptB(const std::optional<bool>& v) {
  return v ? SqlValue(std::int64_t(*v ? 1 : 0)) : SqlValue(std::monostate{});
}

Model ReadModel(const storage::Rows& r, int i) {
  Model m;
  m.id = r.Text(i, 0);
  m.tag = r.Text(i, 1);
  m.name = r.Text(i, 2);
  m.path = r.Text(i, 3);
  auto src = r.Text(i, 4);
  m.source = static_cast<ModelSource>(src.empty() ? 'L' : src[0]);
  m.hub_repo = r.OptText(i, 5);
  m.hub_revision = r.OptText(i, 6);
  m.hub_commit = r.OptText(i, 7);
  m.github_owner = r.OptText(i, 8);
  m.github_repo = r.OptText(i, 9);
  m.github_ref = r.OptText(i, 10);
  m.github_path = r.OptText(i, 11);
  m.trained_from_id = r.OptText(i, 12);
  m.version = r.Int(i, 13);
  m.architecture = r.OptText(i, 14);
  if (auto v = r.OptInt(i, 15)) m.dim = int(*v);
  if (auto v = r.OptInt(i, 16)) m.max_seq_length = int(*v);
  m.pooling = r.OptText(i, 17);
  if (auto v = r.OptInt(i, 18)) m.normalize = *v != 0;
  m.size_bytes = r.Int(i, 19);
  m.created_at = r.Int(i, 20);
  m.updated_at = r.Int(i, 21);
  auto st = r.Text(i, 22);
  m.state = st.empty() ? 'R' : st[0];
  m.task_id = r.OptText(i, 23);
  return m;
}

std::vector<SqlValue> InsertParams(const Model& m) {
  return {m.id,
          m.tag,
          m.name,
          m.path,
          std::string(1, char(m.source)),
          Opt(m.hub_repo),
          Opt(m.hub_revision),
          Opt(m.hub_commit),
          Opt(m.github_owner),
          Opt(m.github_repo),
          Opt(m.github_ref),
          Opt(m.github_path),
          Opt(m.trained_from_id),
          m.version,
          Opt(m.architecture),
          OptI(m.dim),
          OptI(m.max_seq_length),
          Opt(m.pooling),
          OptB(m.normalize),
          m.size_bytes,
          m.created_at,
          m.updated_at,
          std::string(1, m.state),
          Opt(m.task_id)};
}

const std::string kInsert = fmt::format(
    "INSERT INTO ai_model ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15, CAST($16 AS BIGINT), CAST($17 AS BIGINT), $18, CAST($19 AS BIGINT), $20, $21, $22, "
    "$23, $24)",
    kColumns);

Error TagTaken(const std::string& tag, storage::Database& db) {
  auto r = db.Query("SELECT state FROM ai_model WHERE tag = $1", {tag});
  bool importing = r && !r->empty() && r->Text(0, 0) == "I";
  Error e = Error::AlreadyExists(
      importing ? fmt::format("model \"{}\" is being imported by another upload", tag)
                : fmt::format("model with tag \"{}\" already exists", tag));
  e.public_code = "MODEL_ALREADY_EXISTS";
  return e;
}

}  // namespace

Status ModelRegistry::Reserve(const Model& model) {
  Model m = model;
  m.state = 'I';
  if (m.id.empty()) m.id = NewUuidV7();
  m.created_at = m.updated_at = NowMicros();
  auto r = db_.Query(kInsert, InsertParams(m));
  if (!r) {
    if (r.error().code == ErrorCode::kAlreadyExists) return Fail(TagTaken(m.tag, db_));
    return Fail(r.error());
  }
  return {};
}

Result<Model> ModelRegistry::FindTag(const std::string& tag) {
  auto r = db_.Query(fmt::format("SELECT {} FROM ai_model WHERE tag = $1", kColumns), {tag});
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("Model with tag {} not found", tag)));
  return ReadModel(*r, 0);
}

Status ModelRegistry::Release(const std::string& tag, const std::string& task_id) {
  auto r = db_.Query("DELETE FROM ai_model WHERE tag = $1 AND task_id = $2 AND state = 'I'",
                     {tag, task_id});
  if (!r) return Fail(r.error());
  return {};
}

Result<Model> ModelRegistry::Activate(const Model& m) {
  const Micros now = NowMicros();
  auto r = db_.Query(
      fmt::format(
          "UPDATE ai_model SET state = 'R', name = $3, path = $4, hub_repo = $5, "
          "hub_revision = $6, hub_commit = $7, github_owner = $8, github_repo = $9, "
          "github_ref = $10, github_path = $11, architecture = $12, dim = CAST($13 AS BIGINT), "
          "max_seq_length = CAST($14 AS BIGINT), pooling = $15, "
          "normalize = CAST($16 AS BIGINT), size_bytes = $17, "
          "created_at = $18, updated_at = $18, version = 0 "
          "WHERE tag = $1 AND task_id = $2 AND state = 'I' RETURNING {}",
          kColumns),
      {m.tag, Opt(m.task_id), m.name, m.path, Opt(m.hub_repo), Opt(m.hub_revision),
       Opt(m.hub_commit), Opt(m.github_owner), Opt(m.github_repo), Opt(m.github_ref),
       Opt(m.github_path), Opt(m.architecture), OptI(m.dim), OptI(m.max_seq_length), Opt(m.pooling),
       OptB(m.normalize), m.size_bytes, now});
  if (!r) return Fail(r.error());
  if (r->empty())
    return Fail(Error::Aborted(fmt::format(
        "the reservation of tag \"{}\" was lost before the model was registered", m.tag)));
  return ReadModel(*r, 0);
}

Result<Model> ModelRegistry::Insert(Model m) {
  if (m.id.empty()) m.id = NewUuidV7();
  m.state = 'R';
  if (m.created_at == 0) m.created_at = NowMicros();
  m.updated_at = m.created_at;
  auto r = db_.Query(kInsert, InsertParams(m));
  if (!r) {
    if (r.error().code == ErrorCode::kAlreadyExists) return Fail(TagTaken(m.tag, db_));
    return Fail(r.error());
  }
  return m;
}

Result<ModelPage> ModelRegistry::List(std::int64_t page, std::int64_t size) {
  ModelPage out;
  auto count = db_.Query("SELECT COUNT(*) FROM ai_model WHERE state = 'R'");
  if (!count) return Fail(count.error());
  out.total = count->Int(0, 0);
  auto r = db_.Query(fmt::format("SELECT {} FROM ai_model WHERE state = 'R' "
                                 "ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
                                 kColumns),
                     {size, (page - 1) * size});
  if (!r) return Fail(r.error());
  for (int i = 0; i < r->size(); ++i) out.items.push_back(ReadModel(*r, i));
  return out;
}

Result<Model> ModelRegistry::GetByTag(const std::string& tag) {
  auto r = db_.Query(
      fmt::format("SELECT {} FROM ai_model WHERE tag = $1 AND state = 'R'", kColumns), {tag});
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("Model with tag {} not found", tag)));
  return ReadModel(*r, 0);
}

Result<Model> ModelRegistry::GetById(const std::string& id) {
  auto r = db_.Query(fmt::format("SELECT {} FROM ai_model WHERE id = $1 AND state = 'R'", kColumns),
                     {id});
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("Model with ID {} not found", id)));
  return ReadModel(*r, 0);
}

Result<Model> ModelRegistry::Rename(const std::string& id, const std::string& new_name,
                                    std::int64_t expected_version) {
  auto r =
      db_.Query(fmt::format("UPDATE ai_model SET name = $2, version = version + 1, updated_at = $3 "
                            "WHERE id = $1 AND state = 'R' AND version = $4 RETURNING {}",
                            kColumns),
                {id, new_name, NowMicros(), expected_version});
  if (!r) return Fail(r.error());
  if (!r->empty()) return ReadModel(*r, 0);
  auto current = GetById(id);
  if (!current) return Fail(current.error());
  Error e = Error::FailedPrecondition(
      fmt::format("Model {} is at version {}, not {}", id, current->version, expected_version));
  e.public_code = "VERSION_MISMATCH";
  return Fail(e);
}

Status ModelRegistry::Remove(const std::string& id) {
  auto r = db_.Query("DELETE FROM ai_model WHERE id = $1 AND state = 'R'", {id});
  if (!r) return Fail(r.error());
  if (r->affected() == 0)
    return Fail(Error::NotFound(fmt::format("Model with ID {} not found", id)));
  return {};
}

}  // namespace vectorize::models
