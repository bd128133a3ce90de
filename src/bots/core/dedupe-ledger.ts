/**
 * Duplicate suppression that answers before the platform's acknowledgement without touching the disk.
 * Discord may deliver an interaction twice (a resumed gateway replays it), Slack retries an event whose
 * ack was slow and a person can double-submit; each delivery carries a key (interaction id, trigger id,
 * event id, reaction key). The decision is made here, in memory, so the ack goes out at once; the key is
 * written to the database afterwards (persist), many keys per commit. At start-up the keys persisted by
 * earlier processes are loaded back, so a duplicate that arrives after a restart is still stopped.
 *
 * What can slip through: a key acknowledged but not yet flushed when the process is killed (at most one
 * flush interval, a few milliseconds). The engine's own idempotency key still stops such a redelivery
 * from running a second job; it could only post a second status line.
 */
import type { Storage } from '../../storage/index.js';
import { describeForLog } from './friendly-errors.js';
import type { BotLogger } from './types.js';

export const DEDUPE_TTL_MS = 24 * 3_600_000;

type Store = Pick<Storage['idempotency'], 'claimAll' | 'activeKeys'>;

export interface DedupeLedgerOptions {
  /** Key prefixes this process owns (e.g. `discord:`); their persisted keys are loaded at start. */
  readonly prefixes: readonly string[];
  readonly log: BotLogger;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class DedupeLedger {
  /** key -> when it expires (ms). */
  private readonly seen = new Map<string, number>();
  private queue: string[] = [];
  private flushing: NodeJS.Immediate | null = null;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: DedupeLedgerOptions,
  ) {
    this.ttlMs = options.ttlMs ?? DEDUPE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Reads the keys earlier processes persisted (once, at start, before any delivery is handled). */
  load(): number {
    let n = 0;
    for (const prefix of this.options.prefixes) {
      for (const { key, expiresAt } of this.store.activeKeys(prefix)) {
        this.seen.set(key, expiresAt);
        n++;
      }
    }
    return n;
  }

  /** Memory only: true for the first delivery of key, false for every later one until it expires. */
  admit(key: string): boolean {
    const t = this.now();
    const expiresAt = this.seen.get(key);
    if (expiresAt !== undefined && expiresAt > t) return false;
    this.seen.set(key, t + this.ttlMs);
    return true;
  }

  /** After the ack: queues key for the database; the queue is written in one commit on the next turn. */
  persist(key: string): void {
    this.queue.push(key);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** admit() and, when admitted, persist(): for deliveries that the platform has already acknowledged. */
  admitAcked(key: string): boolean {
    if (!this.admit(key)) return false;
    this.persist(key);
    return true;
  }

  /** Writes the queued keys now (also called on shutdown). A failed write is logged: memory still holds them. */
  flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const keys = this.queue;
    this.queue = [];
    if (keys.length === 0) return;
    try {
      this.store.claimAll(keys, this.ttlMs);
    } catch (e) {
      this.options.log.warn(`could not persist ${keys.length} deduplication key(s): ${describeForLog(e)}`);
    }
  }

  /** Forgets expired keys (the database purges its own copy). */
  purgeExpired(): void {
    const t = this.now();
    for (const [key, expiresAt] of this.seen) if (expiresAt <= t) this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }
}
