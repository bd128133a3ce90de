/** SQLite result codes become StorageError codes; a lock held past the busy timeout becomes BUSY. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asStorageError, StorageError } from '../../src/storage/storage-error.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { openStorage } from '../../src/storage/index.js';
import { outcome, tempDir } from './support/fixtures.js';

const driverError = (code: string) => Object.assign(new Error(`driver says ${code}`), { code });

describe('asStorageError', () => {
  it.each([
    ['SQLITE_READONLY', 'READ_ONLY'],
    ['SQLITE_READONLY_DBMOVED', 'READ_ONLY'],
    ['SQLITE_FULL', 'DISK_FULL'],
    ['SQLITE_BUSY', 'BUSY'],
    ['SQLITE_BUSY_SNAPSHOT', 'BUSY'],
    ['SQLITE_LOCKED_SHAREDCACHE', 'BUSY'],
    ['SQLITE_CORRUPT', 'CORRUPT'],
    ['SQLITE_NOTADB', 'CORRUPT'],
    ['SQLITE_CANTOPEN', 'CANT_OPEN'],
    ['SQLITE_IOERR_WRITE', 'IO_FAILED'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 'CONFLICT'],
    ['SQLITE_ERROR', 'INTERNAL'],
    ['ENOSPC', 'DISK_FULL'],
    ['EROFS', 'READ_ONLY'],
  ])('%s -> %s, keeping the driver error as the cause but not in the message', (sqlite, code) => {
    const original = driverError(sqlite);
    const e = asStorageError(original, 'save thing');
    expect(e).toBeInstanceOf(StorageError);
    expect(e.code).toBe(code);
    expect(e.cause).toBe(original);
    expect(e.message).toMatch(/^save thing: /);
    expect(e.message).not.toContain('driver says');
  });

  it('passes StorageErrors through unchanged', () => {
    const e = new StorageError('NAME_TAKEN', 'x');
    expect(asStorageError(e, 'ctx')).toBe(e);
  });
});

describe('lock contention', () => {
  it('a write lock held by another connection past the busy timeout is BUSY, and the write succeeds once it is released', () => {
    const path = join(tempDir(), 'locked.db');
    const storage = openStorage({ path, busyTimeoutMs: 30 });
    const other = openDatabase({ path });
    other.exec('BEGIN IMMEDIATE');
    const t0 = Date.now();
    expect(outcome(() => storage.idempotency.claim('k1'))).toBe('BUSY');
    // Five retries with backoff on top of the busy timeout: it waited, it did not fail at once.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    other.exec('COMMIT');
    expect(storage.idempotency.claim('k1')).toEqual({ claimed: true });
    other.close();
    storage.close();
  });
});
