-- 0001 (PostgreSQL): the same schema as migrations/sqlite/0001_tasks.sql, column for column.
-- Times are BIGINT microseconds since the Unix epoch, UTC. See docs/schema.md.
-- Text keys use the "C" collation so that ids and tags sort and compare bytewise, exactly as in
-- SQLite (and so that the (…, created_at, id) indexes serve the ORDER BY … id of GET /tasks).
-- span_class buckets a finished task's lifetime (created → ended) by powers of four from one
-- minute, so that "created before the window but ended inside it" is a few short index range
-- scans instead of a scan of every finished task (see docs/tasks.md, "The time window").
-- PostgreSQL has no virtual generated columns before 18: span_class is STORED.

CREATE TABLE model_upload_task (
  id               TEXT COLLATE "C" PRIMARY KEY,
  task_status      TEXT COLLATE "C" NOT NULL
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT COLLATE "C" CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       BIGINT NOT NULL,
  started_at       BIGINT,
  updated_at       BIGINT NOT NULL,
  end_date         BIGINT,
  error_msg        TEXT,
  progress         DOUBLE PRECISION,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        BIGINT NOT NULL,
  worker_id        TEXT,
  lease_expires_at BIGINT,
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
      ELSE 10 END) STORED
);
CREATE INDEX model_upload_task_status_created ON model_upload_task (task_status, created_at, id);
CREATE INDEX model_upload_task_created ON model_upload_task (created_at, id);
CREATE INDEX model_upload_task_tag_status_created ON model_upload_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX model_upload_task_span_created ON model_upload_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE dataset_upload_task (
  id               TEXT COLLATE "C" PRIMARY KEY,
  task_status      TEXT COLLATE "C" NOT NULL
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT COLLATE "C" CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       BIGINT NOT NULL,
  started_at       BIGINT,
  updated_at       BIGINT NOT NULL,
  end_date         BIGINT,
  error_msg        TEXT,
  progress         DOUBLE PRECISION,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        BIGINT NOT NULL,
  worker_id        TEXT,
  lease_expires_at BIGINT,
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
      ELSE 10 END) STORED
);
CREATE INDEX dataset_upload_task_status_created ON dataset_upload_task (task_status, created_at, id);
CREATE INDEX dataset_upload_task_created ON dataset_upload_task (created_at, id);
CREATE INDEX dataset_upload_task_tag_status_created ON dataset_upload_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX dataset_upload_task_span_created ON dataset_upload_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE training_task (
  id               TEXT COLLATE "C" PRIMARY KEY,
  task_status      TEXT COLLATE "C" NOT NULL
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT COLLATE "C" CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       BIGINT NOT NULL,
  started_at       BIGINT,
  updated_at       BIGINT NOT NULL,
  end_date         BIGINT,
  error_msg        TEXT,
  progress         DOUBLE PRECISION,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        BIGINT NOT NULL,
  worker_id        TEXT,
  lease_expires_at BIGINT,
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
      ELSE 10 END) STORED
);
CREATE INDEX training_task_status_created ON training_task (task_status, created_at, id);
CREATE INDEX training_task_created ON training_task (created_at, id);
CREATE INDEX training_task_tag_status_created ON training_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX training_task_span_created ON training_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE evaluation_task (
  id               TEXT COLLATE "C" PRIMARY KEY,
  task_status      TEXT COLLATE "C" NOT NULL
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT COLLATE "C" CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       BIGINT NOT NULL,
  started_at       BIGINT,
  updated_at       BIGINT NOT NULL,
  end_date         BIGINT,
  error_msg        TEXT,
  progress         DOUBLE PRECISION,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        BIGINT NOT NULL,
  worker_id        TEXT,
  lease_expires_at BIGINT,
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
      ELSE 10 END) STORED
);
CREATE INDEX evaluation_task_status_created ON evaluation_task (task_status, created_at, id);
CREATE INDEX evaluation_task_created ON evaluation_task (created_at, id);
CREATE INDEX evaluation_task_tag_status_created ON evaluation_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX evaluation_task_span_created ON evaluation_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;

CREATE TABLE synthesis_task (
  id               TEXT COLLATE "C" PRIMARY KEY,
  task_status      TEXT COLLATE "C" NOT NULL
                   CHECK (task_status = 'Q' OR task_status = 'R' OR task_status = 'D'
                          OR task_status = 'F' OR task_status = 'C'),
  tag              TEXT COLLATE "C" CHECK (tag IS NULL OR length(tag) <= 100),
  created_at       BIGINT NOT NULL,
  started_at       BIGINT,
  updated_at       BIGINT NOT NULL,
  end_date         BIGINT,
  error_msg        TEXT,
  progress         DOUBLE PRECISION,
  progress_msg     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 1,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  run_after        BIGINT NOT NULL,
  worker_id        TEXT,
  lease_expires_at BIGINT,
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
      ELSE 10 END) STORED
);
CREATE INDEX synthesis_task_status_created ON synthesis_task (task_status, created_at, id);
CREATE INDEX synthesis_task_created ON synthesis_task (created_at, id);
CREATE INDEX synthesis_task_tag_status_created ON synthesis_task (tag, task_status, created_at, id)
  WHERE tag IS NOT NULL;
-- Covers the straddling arm (and its status/tag filters) so it never touches the table.
CREATE INDEX synthesis_task_span_created ON synthesis_task (span_class, created_at, id, end_date, task_status, tag)
  WHERE end_date IS NOT NULL;
