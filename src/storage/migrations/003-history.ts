/** Every edit request. parent_id makes weaker / stronger / undo a tree of edits rather than a list. */
import type { Migration } from './migration.js';

export const migration003: Migration = {
  version: 3,
  name: 'history',
  up(db) {
    db.exec(`
      CREATE TABLE history (
        id          INTEGER PRIMARY KEY,
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        platform    TEXT    NOT NULL CHECK (platform IN ('discord', 'slack')),
        server_id   TEXT    NOT NULL,
        channel_id  TEXT    NOT NULL,
        thread_id   TEXT,
        message_id  TEXT,
        input_hash  TEXT    NOT NULL,
        input_path  TEXT    NOT NULL,
        recipe      TEXT    NOT NULL,
        preset_id   INTEGER REFERENCES presets(id) ON DELETE SET NULL,
        model_id    TEXT    NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        queued_at   INTEGER NOT NULL,
        started_at  INTEGER,
        finished_at INTEGER,
        output_path TEXT,
        error_code  TEXT,
        parent_id   INTEGER REFERENCES history(id) ON DELETE SET NULL
      );
      CREATE INDEX history_account ON history (account_id, id DESC);
      CREATE INDEX history_parent ON history (parent_id);
      CREATE INDEX history_message ON history (platform, message_id);
    `);
  },
};
