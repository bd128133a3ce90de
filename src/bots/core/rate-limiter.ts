/**
 * Per-user and per-server edit limits. The hourly numbers are the server's settings (an admin sets
 * them with `/asyrp admin limits`); a short per-user burst limit applies everywhere so one person cannot
 * fill the queue in a second. Counts live in memory: a restart forgives, which is the safe direction.
 */
import type { ServerSettings } from '../../storage/index.js';
import { UserFacingError } from './user-facing-error.js';

const HOUR = 3_600_000;

export interface RateLimitOptions {
  /** Edits one person may start per burst window, on any server. */
  readonly burst?: number;
  readonly burstWindowMs?: number;
  readonly now?: () => number;
}

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly burst: number;
  private readonly burstWindowMs: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? 5;
    this.burstWindowMs = options.burstWindowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  private recent(key: string, windowMs: number, t: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((at) => t - at < windowMs);
    this.hits.set(key, list);
    return list;
  }

  /** Throws a friendly limit error, or counts the edit against every window it belongs to. */
  take(who: { platform: string; serverId: string; userId: string }, settings: Pick<ServerSettings, 'userEditsPerHour' | 'serverEditsPerHour'>): void {
    const t = this.now();
    const checks: { key: string; limit: number | null; windowMs: number; words: string }[] = [
      { key: `burst:${who.platform}:${who.userId}`, limit: this.burst, windowMs: this.burstWindowMs, words: 'You are editing very fast' },
      { key: `user:${who.platform}:${who.serverId}:${who.userId}`, limit: settings.userEditsPerHour, windowMs: HOUR, words: 'You have used your edits for this hour' },
      { key: `server:${who.platform}:${who.serverId}`, limit: settings.serverEditsPerHour, windowMs: HOUR, words: 'This server has used its edits for this hour' },
    ];
    const lists = checks.map((c) => this.recent(c.key, c.windowMs, t));
    checks.forEach((c, i) => {
      const list = lists[i]!;
      if (c.limit !== null && list.length >= c.limit) {
        const retryAfterMs = c.limit === 0 ? c.windowMs : Math.max(1000, c.windowMs - (t - list[0]!));
        throw new UserFacingError('limit', `${c.words}. Try again in ${formatWait(retryAfterMs)}.`, retryAfterMs);
      }
    });
    for (const list of lists) list.push(t);
  }
}

export function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 90) return `${s} s`;
  return `${Math.ceil(s / 60)} min`;
}
