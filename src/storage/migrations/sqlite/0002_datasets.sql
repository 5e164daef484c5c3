-- 0002: the dataset registry (SPEC §3.1). Times are integer microseconds since the Unix epoch.
-- name is unique (uploads and renames of a taken name answer 409 DATASET_ALREADY_EXISTS);
-- file_path is relative to the data dir. source: U upload, H Hugging Face Hub, S synthesis.
-- hub_import reserves a Hub dataset tag for the task importing it, so two imports of one tag
-- never run at once (see docs/datasets.md).
CREATE TABLE datasets (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  classification TEXT NOT NULL CHECK (classification = 'D' OR classification = 'T'),
  version        INTEGER NOT NULL DEFAULT 1,
  row_count      INTEGER NOT NULL DEFAULT 0,
  file_path      TEXT NOT NULL,
  source         TEXT NOT NULL CHECK (source = 'U' OR source = 'H' OR source = 'S'),
  synthesis_id   TEXT,
  hub_tag        TEXT,
  hub_revision   TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX datasets_name ON datasets (name);
CREATE INDEX datasets_created ON datasets (created_at, id);
CREATE INDEX datasets_hub_tag ON datasets (hub_tag) WHERE hub_tag IS NOT NULL;

CREATE TABLE hub_import (
  dataset_tag TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL,
  reserved_at INTEGER NOT NULL
);
