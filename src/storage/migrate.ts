/**
 * Brings a database to the newest schema (or to `to`, for tests of upgrades). Runs at every open and
 * from `asyrp db migrate`. Each migration is its own IMMEDIATE transaction that re-reads the version
 * first, so two processes starting at once apply each migration exactly once, and a crash between
 * migrations leaves a database at a valid earlier version, not half of one.
 */
import type { Db } from './open-database.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';
import { StorageError } from './storage-error.js';
import { read, write } from './transactions.js';

export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly string[];
}

function ensureVersionTable(db: Db): void {
  write(db, 'create schema_version', () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
      version    INTEGER PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
  });
}

/** The newest applied migration, 0 for an empty database. */
export function schemaVersion(db: Db): number {
  return read('read schema version', () => {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
    if (!table) return 0;
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  });
}

export function migrate(db: Db, options: { to?: number; now?: number } = {}): MigrateResult {
  const target = options.to ?? LATEST_VERSION;
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) {
    throw new StorageError('INVALID_INPUT', `Schema version ${target} does not exist; the newest is ${LATEST_VERSION}.`);
  }
  const from = schemaVersion(db);
  if (from > LATEST_VERSION) {
    throw new StorageError(
      'SCHEMA_TOO_NEW',
      `The database is at schema version ${from}, newer than this build knows (${LATEST_VERSION}); run a newer asyrp or restore a backup.`,
      { version: from, latest: LATEST_VERSION },
    );
  }
  // Up to date: no write at all, so a start does not take the write lock and a read-only file still opens
  // (its writes then fail with READ_ONLY).
  if (from >= target) return { from, to: from, applied: [] };
  ensureVersionTable(db);
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    // The push happens after the commit: write() may run the function again after a BUSY rollback.
    const ran = write(db, `migration ${m.version}-${m.name}`, () => {
      const current = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
      if ((current.v ?? 0) >= m.version) return false; // another process got here first
      m.up(db);
      db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, options.now ?? Date.now());
      return true;
    });
    if (ran) applied.push(`${m.version}-${m.name}`);
  }
  return { from, to: Math.max(from, schemaVersion(db)), applied };
}
