/**
 * Faster preset search and listings, from the storage benchmark at 100k presets (docs/benchmarks.md):
 * - a trigram full-text index over name and description, so a substring search reads the index instead
 *   of scanning every preset with LIKE '%q%' (kept in step with presets by triggers);
 * - per-server indexes in listing order, so the "this server" half of top/new stops after limit+offset
 *   rows instead of sorting all of the server's presets.
 */
import type { Migration } from './migration.js';

export const migration006: Migration = {
  version: 6,
  name: 'preset-search',
  up(db) {
    db.exec(`
      CREATE INDEX presets_server_top ON presets (platform, server_id, scope, star_count DESC, use_count DESC, id);
      CREATE INDEX presets_server_new ON presets (platform, server_id, scope, created_at DESC, id);

      -- External content: the text lives in presets only; the index stores trigrams and rowids.
      CREATE VIRTUAL TABLE presets_fts USING fts5 (name, description, content = 'presets', content_rowid = 'id', tokenize = 'trigram');
      INSERT INTO presets_fts (presets_fts) VALUES ('rebuild');
      CREATE TRIGGER presets_fts_insert AFTER INSERT ON presets BEGIN
        INSERT INTO presets_fts (rowid, name, description) VALUES (new.id, new.name, new.description);
      END;
      CREATE TRIGGER presets_fts_delete AFTER DELETE ON presets BEGIN
        INSERT INTO presets_fts (presets_fts, rowid, name, description) VALUES ('delete', old.id, old.name, old.description);
      END;
      CREATE TRIGGER presets_fts_update AFTER UPDATE OF name, description ON presets BEGIN
        INSERT INTO presets_fts (presets_fts, rowid, name, description) VALUES ('delete', old.id, old.name, old.description);
        INSERT INTO presets_fts (rowid, name, description) VALUES (new.id, new.name, new.description);
      END;
    `);
  },
};
