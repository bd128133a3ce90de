/**
 * Opens the one SQLite file the bot keeps its memory in, with the pragmas every connection must share.
 * Only src/storage imports better-sqlite3 (eslint enforces it); everything else gets repositories.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { asStorageError } from './storage-error.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** The database file; its parent folder is created. ':memory:' is accepted for quick tests. */
  readonly path: string;
  /** How long a writer waits for another process's write lock before SQLITE_BUSY (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Open without write access (inspection tools, and tests of the read-only path). */
  readonly readonly?: boolean;
  /**
   * Caps the file size in pages (4 KiB each by default): writes past it fail with DISK_FULL. Operators
   * can use it to bound the disk the bot may use; tests use it to provoke SQLITE_FULL without filling
   * a real disk.
   */
  readonly maxPageCount?: number;
  /**
   * 'full' (default): every commit is fsynced. 'normal': in WAL mode a commit is not fsynced; the WAL is
   * at checkpoints. Never corrupts the file; a power cut (not a process crash) can lose the commits since
   * the last checkpoint. The bots use 'normal' for their bookkeeping (docs/storage.md says what that risks).
   */
  readonly synchronous?: 'full' | 'normal';
}

export function openDatabase(options: OpenDatabaseOptions): Db {
  const { path, busyTimeoutMs = 5000, readonly = false } = options;
  let db: Db | undefined;
  try {
    if (path !== ':memory:' && !readonly) mkdirSync(dirname(path), { recursive: true });
    // `timeout` installs SQLite's busy handler: a writer that finds the write lock taken sleeps and
    // retries inside SQLite for up to this long instead of failing at once with SQLITE_BUSY.
    db = new Database(path, { timeout: busyTimeoutMs, readonly, fileMustExist: readonly });
    applyPragmas(db, options);
    return db;
  } catch (e) {
    db?.close();
    throw asStorageError(e, `open database ${path}`);
  }
}

function applyPragmas(db: Db, options: OpenDatabaseOptions): void {
  if (!options.readonly) {
    // WAL: readers never block the writer and the writer never blocks readers, so a slow listing does
    // not stall an edit being recorded; and a crash mid-write leaves the main file untouched (the
    // uncommitted tail of the WAL is ignored at the next open). It is a property of the file, so
    // setting it once is enough, but it is cheap and idempotent.
    db.pragma('journal_mode = WAL');
  }
  // SQLite ships with foreign keys off for backward compatibility; our cascades and SET NULLs rely on it.
  db.pragma('foreign_keys = ON');
  // FULL, not NORMAL: in WAL mode NORMAL is safe against corruption but may lose the last commits on a
  // power cut (the WAL is not fsynced per commit). The bot writes a few rows a second at most, so one
  // fsync per commit costs nothing noticeable and a preset that was confirmed to a user stays saved.
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxPageCount))}`);
}
