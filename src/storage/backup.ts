/**
 * Online backup and offline restore. Backups use SQLite's backup API (better-sqlite3 db.backup), which
 * copies a consistent snapshot page by page while the bot keeps reading and writing; a plain file copy
 * of a WAL database taken while it is in use can miss committed pages still in the -wal file.
 */
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Db } from './open-database.js';
import { openDatabase } from './open-database.js';
import { LATEST_VERSION } from './migrations/index.js';
import { schemaVersion } from './migrate.js';
import { asStorageError, StorageError } from './storage-error.js';
import { read } from './transactions.js';

export interface BackupResult {
  readonly path: string;
  readonly bytes: number;
  readonly schemaVersion: number;
}

/** Problems found by SQLite's own checks; empty means the file is sound. */
export function integrityProblems(db: Db): string[] {
  return read('check integrity', () => {
    const problems = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).filter((t) => t !== 'ok');
    const fk = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
    return [...problems, ...fk.map((r) => `foreign key: ${r.table} row ${r.rowid} points at a missing ${r.parent}`)];
  });
}

/** Checks a file is a sound database this build can use; returns its schema version. */
function verify(file: string): number {
  const db = openDatabase({ path: file, readonly: true });
  try {
    const problems = integrityProblems(db);
    if (problems.length > 0) throw new StorageError('CORRUPT', `${file} failed the integrity check: ${problems.slice(0, 3).join('; ')}`, { problems: problems.slice(0, 10) });
    const version = schemaVersion(db);
    if (version > LATEST_VERSION) throw new StorageError('SCHEMA_TOO_NEW', `${file} has schema version ${version}; this build knows up to ${LATEST_VERSION}.`);
    return version;
  } finally {
    db.close();
  }
}

/**
 * Writes a consistent copy of the open database to `file`: first to `file.partial`, renamed only once
 * complete and verified, so an interrupted backup never leaves a file that looks like a good backup.
 * The copy is switched to rollback-journal mode, a single self-contained file that can be moved freely.
 */
export async function backupDatabase(db: Db, file: string, options: { overwrite?: boolean } = {}): Promise<BackupResult> {
  if (existsSync(file) && !options.overwrite) {
    throw new StorageError('INVALID_INPUT', `${file} already exists; choose another name or allow overwriting.`, { path: file });
  }
  const partial = `${file}.partial`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    rmSync(partial, { force: true });
    await db.backup(partial);
    const copy = openDatabase({ path: partial });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const version = verify(partial);
    renameSync(partial, file);
    return { path: file, bytes: statSync(file).size, schemaVersion: version };
  } catch (e) {
    rmSync(partial, { force: true });
    rmSync(`${partial}-wal`, { force: true });
    rmSync(`${partial}-shm`, { force: true });
    throw asStorageError(e, `back up to ${file}`);
  }
}

/**
 * Replaces the database at `to` with the backup `from`, after checking the backup. Only while nothing
 * has `to` open (stop the bot first). The old -wal and -shm files are removed: left behind, SQLite would
 * replay the old database's WAL onto the restored file.
 */
export function restoreDatabase(options: { from: string; to: string }): { schemaVersion: number } {
  const { from, to } = options;
  try {
    if (!existsSync(from)) throw new StorageError('NOT_FOUND', `No backup file ${from}.`, { path: from });
    const version = verify(from);
    mkdirSync(dirname(to), { recursive: true });
    const partial = `${to}.restoring`;
    copyFileSync(from, partial);
    rmSync(`${to}-wal`, { force: true });
    rmSync(`${to}-shm`, { force: true });
    renameSync(partial, to);
    return { schemaVersion: version };
  } catch (e) {
    throw asStorageError(e, `restore ${from}`);
  }
}
