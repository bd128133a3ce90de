/**
 * The two ways repositories touch the database: `write` (one short synchronous transaction) and `read`.
 * Both translate driver errors into StorageError. Never `await` inside `fn`: better-sqlite3 commits
 * when the function returns, so slow work (inference, file writes) happens before or after, not inside.
 */
import type { Db } from './open-database.js';
import { asStorageError, sqliteCode } from './storage-error.js';

const RETRIES = 5;
const txRunners = new WeakMap<Db, TxRunner>();

interface TxRunner {
  immediate<T>(fn: () => T): T;
}

function runnerFor(db: Db): TxRunner {
  let runner = txRunners.get(db);
  if (!runner) {
    // One transaction wrapper per connection, called with the work as its argument, so a write does not
    // pay for building a new wrapper each time.
    const tx = db.transaction((fn: () => unknown) => fn());
    runner = { immediate: <T>(fn: () => T) => tx.immediate(fn) as T };
    txRunners.set(db, runner);
  }
  return runner;
}

/** Blocks the thread briefly; only used between retries of a write that found the database locked. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` in a BEGIN IMMEDIATE transaction. IMMEDIATE takes the write lock up front, so the busy
 * timeout applies to it; a deferred transaction that reads and then writes can instead fail at once
 * with SQLITE_BUSY_SNAPSHOT, which no busy handler waits out. The few BUSY results that still escape
 * (e.g. while another process recovers the WAL) are retried here with a short backoff before they
 * become StorageError('BUSY').
 */
export function write<T>(db: Db, context: string, fn: () => T): T {
  if (db.inTransaction) return guard(context, fn);
  for (let attempt = 0; ; attempt++) {
    try {
      return runnerFor(db).immediate(fn);
    } catch (e) {
      if (attempt < RETRIES && sqliteCode(e)?.startsWith('SQLITE_BUSY')) {
        sleepSync(10 * 2 ** attempt + Math.random() * 10);
        continue;
      }
      throw asStorageError(e, context);
    }
  }
}

/** Runs a read and translates driver errors. */
export function read<T>(context: string, fn: () => T): T {
  return guard(context, fn);
}

function guard<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asStorageError(e, context);
  }
}

/** Milliseconds since the epoch: every timestamp column stores this, so comparisons are plain integers. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
