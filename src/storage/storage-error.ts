/**
 * Typed storage errors with a closed set of codes. Repositories throw only StorageError: SQLite's own
 * error codes are translated here, at the storage boundary, so callers (bots, CLI, engine service) never
 * look at SQLITE_* strings and never see a raw driver message they might leak to a user.
 */

export const STORAGE_ERROR_CODES = [
  // Domain rules (the caller or the person made a mistake).
  'NOT_FOUND',
  'FORBIDDEN',
  'NAME_TAKEN',
  'INVALID_NAME',
  'INVALID_DESCRIPTION',
  'INVALID_RECIPE',
  'INVALID_INPUT',
  'TOO_MANY_PRESETS',
  'LINK_CODE_INVALID',
  'ALREADY_LINKED',
  'INVALID_STATE',
  'CONFLICT',
  // The database file or the machine.
  'READ_ONLY',
  'DISK_FULL',
  'BUSY',
  'CORRUPT',
  'CANT_OPEN',
  'SCHEMA_TOO_NEW',
  'IO_FAILED',
  'INTERNAL',
] as const;

export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** Structured facts for the edge to format (never secrets, never link codes). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: StorageErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** The SQLite result code of a driver error (better-sqlite3's SqliteError has a string `code`), if any. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

// Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED, ...) share their primary code's prefix.
const BY_PREFIX: readonly [string, StorageErrorCode, string][] = [
  ['SQLITE_READONLY', 'READ_ONLY', 'the database file is read-only'],
  ['SQLITE_FULL', 'DISK_FULL', 'the disk (or the configured database size limit) is full'],
  ['SQLITE_BUSY', 'BUSY', 'the database stayed locked by another process past the busy timeout'],
  ['SQLITE_LOCKED', 'BUSY', 'the database table is locked'],
  ['SQLITE_CORRUPT', 'CORRUPT', 'the database file is corrupt'],
  ['SQLITE_NOTADB', 'CORRUPT', 'the file is not a SQLite database'],
  ['SQLITE_CANTOPEN', 'CANT_OPEN', 'the database file cannot be opened'],
  ['SQLITE_PERM', 'READ_ONLY', 'the database file may not be written'],
  ['SQLITE_IOERR', 'IO_FAILED', 'a disk read or write failed'],
];

/**
 * Wraps anything thrown by the driver so callers only ever see StorageError. `context` says what was
 * being done ("create preset"); the driver's message is kept in `cause` for logs, not in `message`.
 */
export function asStorageError(e: unknown, context: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = sqliteCode(e);
  if (code) {
    for (const [prefix, mapped, words] of BY_PREFIX) {
      if (code.startsWith(prefix)) return new StorageError(mapped, `${context}: ${words}.`, { sqlite: code }, { cause: e });
    }
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return new StorageError('CONFLICT', `${context}: the change conflicts with existing data.`, { sqlite: code }, { cause: e });
    }
  }
  const errno = (e as { code?: unknown } | null)?.code;
  if (errno === 'ENOSPC') return new StorageError('DISK_FULL', `${context}: the disk is full.`, {}, { cause: e });
  if (errno === 'EACCES' || errno === 'EROFS' || errno === 'EPERM') {
    return new StorageError('READ_ONLY', `${context}: the location is not writable.`, {}, { cause: e });
  }
  return new StorageError('INTERNAL', `${context}: unexpected storage failure.`, {}, { cause: e });
}
