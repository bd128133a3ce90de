/**
 * Idempotency keys: Discord may deliver an interaction twice and Slack retries events it thinks were not
 * acknowledged in time. The first delivery claims the key; later ones within the expiry see it taken
 * (and what the first one recorded as its result) and do nothing.
 */
import type { Db } from '../open-database.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import { checkCount, checkId } from '../validation.js';

export type Claim = { readonly claimed: true } | { readonly claimed: false; readonly result: string | null };

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export class IdempotencyRepo {
  private readonly claimStmt;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    // An expired key is taken over in the same statement: no window between "is it free" and "take it".
    this.claimStmt = db.prepare(
      `INSERT INTO idempotency_keys (key, created_at, expires_at, result) VALUES (?, ?, ?, NULL)
       ON CONFLICT (key) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at, result = NULL
       WHERE idempotency_keys.expires_at <= excluded.created_at`,
    );
  }

  claim(key: string, ttlMs: number = DEFAULT_IDEMPOTENCY_TTL_MS): Claim {
    checkId(key, 'key');
    checkCount(ttlMs, 'ttlMs', 365 * 86_400_000);
    return write(this.db, 'claim idempotency key', () => {
      const now = this.clock();
      if (this.claimStmt.run(key, now, now + ttlMs).changes > 0) return { claimed: true } as const;
      const result = this.db.prepare('SELECT result FROM idempotency_keys WHERE key = ?').pluck().get(key) as string | null;
      return { claimed: false, result } as const;
    });
  }

  /**
   * Claims many keys in one transaction (one commit instead of one per key); returns the keys that were
   * already taken. The bots' dedupe ledger persists the keys it decided in memory this way, after the ack.
   */
  claimAll(keys: readonly string[], ttlMs: number = DEFAULT_IDEMPOTENCY_TTL_MS): string[] {
    for (const key of keys) checkId(key, 'key');
    checkCount(ttlMs, 'ttlMs', 365 * 86_400_000);
    if (keys.length === 0) return [];
    return write(this.db, 'claim idempotency keys', () => {
      const now = this.clock();
      return keys.filter((key) => this.claimStmt.run(key, now, now + ttlMs).changes === 0);
    });
  }

  /** The result stored under an unexpired key (null: none, or no result yet), without claiming it. */
  peek(key: string): string | null {
    checkId(key, 'key');
    return read('read idempotency key', () => {
      const row = this.db.prepare('SELECT result FROM idempotency_keys WHERE key = ? AND expires_at > ?').pluck().get(key, this.clock()) as string | null | undefined;
      return row ?? null;
    });
  }

  /** Unexpired keys that start with prefix, with when each expires: what a fresh process loads into memory. */
  activeKeys(prefix: string): { key: string; expiresAt: number }[] {
    checkId(prefix, 'prefix');
    return read('list idempotency keys', () =>
      (
        this.db
          .prepare("SELECT key, expires_at FROM idempotency_keys WHERE key >= ? AND key < ? || char(0x10ffff) AND expires_at > ?")
          .all(prefix, prefix, this.clock()) as { key: string; expires_at: number }[]
      ).map((r) => ({ key: r.key, expiresAt: r.expires_at })),
    );
  }

  /** Records what the first delivery produced (e.g. a job id), for redeliveries to reuse. */
  setResult(key: string, result: string): void {
    checkId(result, 'result', 1000);
    write(this.db, 'set idempotency result', () => this.db.prepare('UPDATE idempotency_keys SET result = ? WHERE key = ?').run(result, key));
  }

  /** Deletes expired keys; returns how many. Call it now and then (e.g. hourly) to keep the table small. */
  purgeExpired(): number {
    return write(this.db, 'purge idempotency keys', () => this.db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(this.clock()).changes);
  }

  count(): number {
    return read('count idempotency keys', () => this.db.prepare('SELECT COUNT(*) FROM idempotency_keys').pluck().get() as number);
  }
}
