/**
 * Idempotency keys (Discord interaction ids, Slack event ids, which both platforms may redeliver) and the
 * engine jobs the engine service persists so that queued work survives a restart.
 */
import type { Migration } from './migration.js';

export const migration005: Migration = {
  version: 5,
  name: 'idempotency-and-jobs',
  up(db) {
    db.exec(`
      CREATE TABLE idempotency_keys (
        key        TEXT    PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        -- What the first delivery produced (e.g. a job id), so a redelivery can answer the same way.
        result     TEXT
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

      CREATE TABLE engine_jobs (
        id              TEXT    PRIMARY KEY,
        idempotency_key TEXT    UNIQUE,
        owner_id        INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        kind            TEXT    NOT NULL CHECK (kind IN ('edit', 'compare', 'sweep')),
        model_id        TEXT    NOT NULL,
        recipe          TEXT    NOT NULL,
        input_path      TEXT    NOT NULL,
        input_hash      TEXT    NOT NULL,
        status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        error_code      TEXT,
        progress_step   INTEGER NOT NULL DEFAULT 0,
        progress_total  INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        history_id      INTEGER REFERENCES history(id) ON DELETE SET NULL,
        result_path     TEXT,
        created_at      INTEGER NOT NULL,
        started_at      INTEGER,
        finished_at     INTEGER,
        updated_at      INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Recovery and claiming only ever look at unfinished jobs; a partial index keeps that set small.
      CREATE INDEX engine_jobs_unfinished ON engine_jobs (status, created_at) WHERE status IN ('queued', 'running');
    `);
  },
};
