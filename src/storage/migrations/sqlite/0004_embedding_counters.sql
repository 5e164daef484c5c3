-- 0004: embedding requests served per model and calendar day (UTC), for
-- GET /embeddings/counter/{tag} (SPEC §3.3). day = whole days since 1970-01-01 (UTC).
-- The service counts in memory and adds its counts here periodically and on shutdown
-- (INSERT … ON CONFLICT DO UPDATE SET requests = requests + excluded.requests), so several
-- processes sharing one database add up. Rows of deleted models are left to expire with them.
CREATE TABLE embedding_counter (
  model_id   TEXT NOT NULL,
  day        INTEGER NOT NULL,
  requests   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model_id, day)
);
