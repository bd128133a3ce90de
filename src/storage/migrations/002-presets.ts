/**
 * Presets and what the community does with them: versions, stars and daily use counts.
 * star_count and use_count are kept on the preset row (updated in the same transaction as the star or
 * use) so that "top" listings read one index instead of aggregating 100k presets' stars per request.
 */
import type { Migration } from './migration.js';

export const migration002: Migration = {
  version: 2,
  name: 'presets',
  up(db) {
    db.exec(`
      CREATE TABLE presets (
        id          INTEGER PRIMARY KEY,
        owner_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name        TEXT    NOT NULL,
        recipe      TEXT    NOT NULL,
        model_id    TEXT    NOT NULL,
        scope       TEXT    NOT NULL CHECK (scope IN ('private', 'server', 'public')),
        -- Where the preset was made; for scope 'server' this is the server that can see it.
        platform    TEXT    NOT NULL CHECK (platform IN ('discord', 'slack')),
        server_id   TEXT    NOT NULL,
        description TEXT    NOT NULL DEFAULT '',
        before_path TEXT,
        after_path  TEXT,
        forked_from INTEGER REFERENCES presets(id) ON DELETE SET NULL,
        version     INTEGER NOT NULL DEFAULT 1,
        star_count  INTEGER NOT NULL DEFAULT 0,
        use_count   INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        UNIQUE (owner_id, name)
      );
      CREATE INDEX presets_scope_top ON presets (scope, star_count DESC, use_count DESC, id);
      CREATE INDEX presets_scope_new ON presets (scope, created_at DESC, id);
      CREATE INDEX presets_server ON presets (platform, server_id, scope, name);
      CREATE INDEX presets_scope_name ON presets (scope, name);
      CREATE INDEX presets_forked_from ON presets (forked_from);

      -- Every recipe a preset ever had; presets.version is the newest row here.
      CREATE TABLE preset_versions (
        preset_id  INTEGER NOT NULL REFERENCES presets(id) ON DELETE CASCADE,
        version    INTEGER NOT NULL,
        recipe     TEXT    NOT NULL,
        model_id   TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (preset_id, version)
      ) WITHOUT ROWID;

      CREATE TABLE preset_stars (
        preset_id  INTEGER NOT NULL REFERENCES presets(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (preset_id, account_id)
      ) WITHOUT ROWID;
      CREATE INDEX preset_stars_account ON preset_stars (account_id);
      CREATE INDEX preset_stars_recent ON preset_stars (created_at, preset_id);

      -- Uses bucketed per UTC day: "trending over 7 days" sums at most 7 rows per preset and the table
      -- grows with days x presets used, not with every single edit.
      CREATE TABLE preset_use_days (
        preset_id INTEGER NOT NULL REFERENCES presets(id) ON DELETE CASCADE,
        day       INTEGER NOT NULL,
        uses      INTEGER NOT NULL,
        PRIMARY KEY (preset_id, day)
      ) WITHOUT ROWID;
      CREATE INDEX preset_use_days_day ON preset_use_days (day, preset_id);
    `);
  },
};
