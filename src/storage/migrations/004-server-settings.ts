/** Per-server settings. A server with no rows here runs on defaults (all channels, reactions on). */
import type { Migration } from './migration.js';

export const migration004: Migration = {
  version: 4,
  name: 'server-settings',
  up(db) {
    db.exec(`
      CREATE TABLE server_settings (
        platform             TEXT    NOT NULL CHECK (platform IN ('discord', 'slack')),
        server_id            TEXT    NOT NULL,
        default_model        TEXT,
        reactions_enabled    INTEGER NOT NULL DEFAULT 1 CHECK (reactions_enabled IN (0, 1)),
        user_edits_per_hour  INTEGER,
        server_edits_per_hour INTEGER,
        updated_at           INTEGER NOT NULL,
        PRIMARY KEY (platform, server_id)
      ) WITHOUT ROWID;
      -- An emoji maps to exactly one of a recipe text or a preset.
      CREATE TABLE server_emoji (
        platform  TEXT    NOT NULL,
        server_id TEXT    NOT NULL,
        emoji     TEXT    NOT NULL,
        recipe    TEXT,
        preset_id INTEGER REFERENCES presets(id) ON DELETE CASCADE,
        CHECK ((recipe IS NULL) <> (preset_id IS NULL)),
        PRIMARY KEY (platform, server_id, emoji)
      ) WITHOUT ROWID;
      CREATE INDEX server_emoji_preset ON server_emoji (preset_id);
      -- No rows for a server means every channel is allowed.
      CREATE TABLE server_channels (
        platform   TEXT NOT NULL,
        server_id  TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        PRIMARY KEY (platform, server_id, channel_id)
      ) WITHOUT ROWID;
    `);
  },
};
