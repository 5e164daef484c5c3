-- 0001: one table per task type, with the columns every task has (SPEC §2.1).
-- Times are integer microseconds since the Unix epoch, UTC. See docs/schema.md.
-- span_class buckets a finished task's lifetime (created → ended) by powers of four from one
-- minute, so that "created before the window but ended inside it" is a few short index range
-- scans instead of a scan of every finished task (see docs/tasks.md, "The time window").

CREATE TABLE model_upload_task (
  id               TEXT PRIMARY KEY,
  task_status      TEXT NOT NULL -- an OR chain, not IN (…): SQLite compiles a constant IN list into a temporary table per row
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  end_date         INTEGER,
  error_msg        TEXT,
  progress         REAL,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        INTEGER NOT NULL,
  worker_id        TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '{}',
  result           TEXT,
  span_class       INTEGER GENERATED ALWAYS AS (
    CASE WHEN end_date IS NULL THEN NULL
      WHEN end_date - created_at < 60000000 THEN 0
      WHEN end_date - created_at < 240000000 THEN 1
      WHEN end_date - created_at < 960000000 THEN 2
      WHEN end_date - created_at < 3840000000 THEN 3
      WHEN end_date - created_at < 15360000000 THEN 4
      WHEN end_date - created_at < 61440000000 THEN 5
      WHEN end_date - created_at < 245760000000 THEN 6
      WHEN end_date - created_at < 983040000000 THEN 7
      WHEN end_date - created_at < 3932160000000 THEN 8
      WHEN end_date - created_at < 15728640000000 THEN 9
      ELSE 10 END) VIRTUAL
);
CREATE INDEX model_upload_task_status_created ON model_upload_task (task_status, created_at, id);
CREATE INDEX model_upload_task_created ON model_upload_task (created_at, id);
CREATE INDEX model_upload_task_tag_status_created ON model_upload_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX model_upload_task_span_created ON model_upload_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE dataset_upload_task (
  id               TEXT PRIMARY KEY,
  task_status      TEXT NOT NULL -- an OR chain, not IN (…): SQLite compiles a constant IN list into a temporary table per row
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  end_date         INTEGER,
  error_msg        TEXT,
  progress         REAL,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        INTEGER NOT NULL,
  worker_id        TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '{}',
  result           TEXT,
  span_class       INTEGER GENERATED ALWAYS AS (
    CASE WHEN end_date IS NULL THEN NULL
      WHEN end_date - created_at < 60000000 THEN 0
      WHEN end_date - created_at < 240000000 THEN 1
      WHEN end_date - created_at < 960000000 THEN 2
      WHEN end_date - created_at < 3840000000 THEN 3
      WHEN end_date - created_at < 15360000000 THEN 4
      WHEN end_date - created_at < 61440000000 THEN 5
      WHEN end_date - created_at < 245760000000 THEN 6
      WHEN end_date - created_at < 983040000000 THEN 7
      WHEN end_date - created_at < 3932160000000 THEN 8
      WHEN end_date - created_at < 15728640000000 THEN 9
      ELSE 10 END) VIRTUAL
);
CREATE INDEX dataset_upload_task_status_created ON dataset_upload_task (task_status, created_at, id);
CREATE INDEX dataset_upload_task_created ON dataset_upload_task (created_at, id);
CREATE INDEX dataset_upload_task_tag_status_created ON dataset_upload_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX dataset_upload_task_span_created ON dataset_upload_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE training_task (
  id               TEXT PRIMARY KEY,
  task_status      TEXT NOT NULL -- an OR chain, not IN (…): SQLite compiles a constant IN list into a temporary table per row
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  end_date         INTEGER,
  error_msg        TEXT,
  progress         REAL,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        INTEGER NOT NULL,
  worker_id        TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '{}',
  result           TEXT,
  span_class       INTEGER GENERATED ALWAYS AS (
    CASE WHEN end_date IS NULL THEN NULL
      WHEN end_date - created_at < 60000000 THEN 0
      WHEN end_date - created_at < 240000000 THEN 1
      WHEN end_date - created_at < 960000000 THEN 2
      WHEN end_date - created_at < 3840000000 THEN 3
      WHEN end_date - created_at < 15360000000 THEN 4
      WHEN end_date - created_at < 61440000000 THEN 5
      WHEN end_date - created_at < 245760000000 THEN 6
      WHEN end_date - created_at < 983040000000 THEN 7
      WHEN end_date - created_at < 3932160000000 THEN 8
      WHEN end_date - created_at < 15728640000000 THEN 9
      ELSE 10 END) VIRTUAL
);
CREATE INDEX training_task_status_created ON training_task (task_status, created_at, id);
CREATE INDEX training_task_created ON training_task (created_at, id);
CREATE INDEX training_task_tag_status_created ON training_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX training_task_span_created ON training_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE evaluation_task (
  id               TEXT PRIMARY KEY,
  task_status      TEXT NOT NULL -- an OR chain, not IN (…): SQLite compiles a constant IN list into a temporary table per row
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  end_date         INTEGER,
  error_msg        TEXT,
  progress         REAL,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        INTEGER NOT NULL,
  worker_id        TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '{}',
  result           TEXT,
  span_class       INTEGER GENERATED ALWAYS AS (
    CASE WHEN end_date IS NULL THEN NULL
      WHEN end_date - created_at < 60000000 THEN 0
      WHEN end_date - created_at < 240000000 THEN 1
      WHEN end_date - created_at < 960000000 THEN 2
      WHEN end_date - created_at < 3840000000 THEN 3
      WHEN end_date - created_at < 15360000000 THEN 4
      WHEN end_date - created_at < 61440000000 THEN 5
      WHEN end_date - created_at < 245760000000 THEN 6
      WHEN end_date - created_at < 983040000000 THEN 7
      WHEN end_date - created_at < 3932160000000 THEN 8
      WHEN end_date - created_at < 15728640000000 THEN 9
      ELSE 10 END) VIRTUAL
);
CREATE INDEX evaluation_task_status_created ON evaluation_task (task_status, created_at, id);
CREATE INDEX evaluation_task_created ON evaluation_task (created_at, id);
CREATE INDEX evaluation_task_tag_status_created ON evaluation_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX evaluation_task_span_created ON evaluation_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE synthesis_task (
  id               TEXT PRIMARY KEY,
  task_status      TEXT NOT NULL -- an OR chain, not IN (…): SQLite compiles a constant IN list into a temporary table per row
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  end_date         INTEGER,
  error_msg        TEXT,
  progress         REAL,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        INTEGER NOT NULL,
  worker_id        TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '{}',
  result           TEXT,
  span_class       INTEGER GENERATED ALWAYS AS (
    CASE WHEN end_date IS NULL THEN NULL
      WHEN end_date - created_at < 60000000 THEN 0
      WHEN end_date - created_at < 240000000 THEN 1
      WHEN end_date - created_at < 960000000 THEN 2
      WHEN end_date - created_at < 3840000000 THEN 3
      WHEN end_date - created_at < 15360000000 THEN 4
      WHEN end_date - created_at < 61440000000 THEN 5
      WHEN end_date - created_at < 245760000000 THEN 6
      WHEN end_date - created_at < 983040000000 THEN 7
      WHEN end_date - created_at < 3932160000000 THEN 8
      WHEN end_date - created_at < 15728640000000 THEN 9
      ELSE 10 END) VIRTUAL
);
CREATE INDEX synthesis_task_status_created ON synthesis_task (task_status, created_at, id);
CREATE INDEX synthesis_task_created ON synthesis_task (created_at, id);
CREATE INDEX synthesis_task_tag_status_created ON synthesis_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX synthesis_task_span_created ON synthesis_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;
