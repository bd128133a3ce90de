/** Migrations: from an empty file, and from every earlier schema version with data in it. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/storage/open-database.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { migrate, schemaVersion } from '../../src/storage/migrate.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/storage/migrations/index.js';
import { openStorage } from '../../src/storage/index.js';
import { outcome, tempDir } from './support/fixtures.js';

/** The schema as SQLite records it, comparable between two files. */
function schemaOf(db: Db): string[] {
  return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as { sql: string }[]).map(
    (r) => JSON.stringify(r),
  );
}

/** Rows that an instance at schema `version` would hold, written with that version's tables only. */
function seed(db: Db, version: number): void {
  const t = 1_700_000_000_000;
  if (version >= 1) {
    db.prepare('INSERT INTO accounts (id, handle, created_at) VALUES (1, ?, ?)').run('old-timer', t);
    db.prepare("INSERT INTO identities (account_id, platform, server_id, user_id, display_name, created_at, updated_at) VALUES (1, 'discord', 'g1', 'u1', 'Old Timer', ?, ?)").run(t, t);
  }
  if (version >= 2) {
    db.prepare(
      "INSERT INTO presets (id, owner_id, name, recipe, model_id, scope, platform, server_id, created_at, updated_at) VALUES (1, 1, 'classic', 'smile:0.5', 'm1', 'public', 'discord', 'g1', ?, ?)",
    ).run(t, t);
    db.prepare("INSERT INTO preset_versions (preset_id, version, recipe, model_id, created_at) VALUES (1, 1, 'smile:0.5', 'm1', ?)").run(t);
  }
  if (version >= 3) {
    db.prepare(
      "INSERT INTO history (account_id, platform, server_id, channel_id, input_hash, input_path, recipe, preset_id, model_id, status, queued_at) VALUES (1, 'discord', 'g1', 'c1', 'h', '/in.png', 'classic', 1, 'm1', 'done', ?)",
    ).run(t);
  }
  if (version >= 4) {
    db.prepare("INSERT INTO server_settings (platform, server_id, default_model, reactions_enabled, updated_at) VALUES ('discord', 'g1', 'm1', 0, ?)").run(t);
  }
}

describe('migrations', () => {
  it('are numbered 1..N without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
  });

  it('bring an empty file to the latest version, and a second run does nothing', () => {
    const path = join(tempDir(), 'fresh.db');
    const first = openStorage({ path });
    expect(first.migration).toEqual({ from: 0, to: LATEST_VERSION, applied: MIGRATIONS.map((m) => `${m.version}-${m.name}`) });
    expect(first.schemaVersion()).toBe(LATEST_VERSION);
    expect(first.integrityProblems()).toEqual([]);
    first.close();
    const second = openStorage({ path });
    expect(second.migration).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
    second.close();
  });

  for (let from = 0; from < LATEST_VERSION; from++) {
    it(`upgrade from version ${from} keeps the data and ends with the same schema as a fresh file`, () => {
      const dir = tempDir();
      const old = openDatabase({ path: join(dir, 'old.db') });
      migrate(old, { to: from });
      expect(schemaVersion(old)).toBe(from);
      seed(old, from);
      old.close();

      const storage = openStorage({ path: join(dir, 'old.db') });
      expect(storage.migration?.from).toBe(from);
      expect(storage.migration?.applied).toHaveLength(LATEST_VERSION - from);
      expect(storage.schemaVersion()).toBe(LATEST_VERSION);
      expect(storage.integrityProblems()).toEqual([]);
      const actor = { accountId: 1, platform: 'discord' as const, serverId: 'g1', isServerAdmin: false };
      if (from >= 1) expect(storage.accounts.get(1).handle).toBe('old-timer');
      if (from >= 2) expect(storage.presets.resolve(actor, '@old-timer/classic').recipe).toBe('smile:0.5');
      if (from >= 2) expect(storage.presets.search(actor, 'classic').map((p) => p.name)).toEqual(['classic']); // indexed by migration 6
      if (from >= 3) expect(storage.history.listForAccount(1)).toHaveLength(1);
      if (from >= 4) expect(storage.serverSettings.get('discord', 'g1')).toMatchObject({ defaultModel: 'm1', reactionsEnabled: false });
      storage.close();

      const upgraded = openDatabase({ path: join(dir, 'old.db') });
      const fresh = openDatabase({ path: join(dir, 'fresh.db') });
      migrate(fresh);
      expect(schemaOf(upgraded)).toEqual(schemaOf(fresh));
      upgraded.close();
      fresh.close();
    });
  }

  it('refuse a database from a newer build with SCHEMA_TOO_NEW', () => {
    const path = join(tempDir(), 'future.db');
    openStorage({ path }).close();
    const db = openDatabase({ path });
    db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'from-the-future', 0)").run(LATEST_VERSION + 1);
    db.close();
    expect(outcome(() => openStorage({ path }))).toBe('SCHEMA_TOO_NEW');
  });

  it('refuse to open a read-only database that still needs migrating', () => {
    const path = join(tempDir(), 'behind.db');
    const db = openDatabase({ path });
    migrate(db, { to: 2 });
    db.close();
    expect(outcome(() => openStorage({ path, readonly: true }))).toBe('INVALID_STATE');
  });

  it('reject a target version that does not exist', () => {
    const db = openDatabase({ path: ':memory:' });
    expect(outcome(() => migrate(db, { to: LATEST_VERSION + 1 }))).toBe('INVALID_INPUT');
    db.close();
  });
});
