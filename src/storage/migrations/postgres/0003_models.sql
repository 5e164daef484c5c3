-- 0003: the model registry (SPEC §3.2). A row is either a model ready to use (state 'R') or a
-- reservation of its tag by the upload task importing it (state 'I', task_id set), so that two
-- imports can never claim the same tag. Only ready rows are visible through /models.
-- Times are integer microseconds since the Unix epoch, UTC. See docs/models.md.
CREATE TABLE ai_model (
  id              TEXT PRIMARY KEY,
  tag             TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'R' CHECK (state = 'I' OR state = 'R'),
  task_id         TEXT,
  path            TEXT NOT NULL DEFAULT '',  -- relative to the data dir: models/<tag>
  source          TEXT NOT NULL CHECK (source = 'H' OR source = 'G' OR source = 'L' OR source = 'T'),
  hub_repo        TEXT,
  hub_revision    TEXT,
  hub_commit      TEXT,
  github_owner    TEXT,
  github_repo     TEXT,
  github_ref      TEXT,
  github_path     TEXT,
  trained_from_id TEXT,
  version         BIGINT NOT NULL DEFAULT 0,
  architecture    TEXT,
  dim             BIGINT,
  max_seq_length  BIGINT,
  pooling         TEXT,
  normalize       BIGINT,
  size_bytes      BIGINT NOT NULL DEFAULT 0,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX ai_model_state_created ON ai_model (state, created_at, id);
CREATE INDEX ai_model_hub ON ai_model (hub_repo, hub_commit) WHERE hub_repo IS NOT NULL;
