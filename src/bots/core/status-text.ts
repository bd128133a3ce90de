/**
 * Engine progress in a few words, for the status message that is edited in place while a job runs:
 * queued #n -> inverting -> editing -> boosting -> finishing.
 */
import type { JobStatus } from '../../engine/client/api-types.js';

function percent(s: Pick<JobStatus, 'step' | 'total'>): string {
  return s.total > 0 ? ` ${Math.min(100, Math.floor((100 * s.step) / s.total))}%` : '';
}

export function statusText(s: Pick<JobStatus, 'state' | 'phase' | 'position' | 'step' | 'total' | 'cacheHit'>): string {
  if (s.state === 'queued') return s.position > 0 ? `⏳ Queued #${s.position}` : '⏳ Queued';
  // The job is done but the result is not posted yet: the adapter writes the last line itself.
  if (s.state === 'done') return '📤 Posting the result…';
  if (s.state === 'failed') return '❌ Failed';
  if (s.state === 'cancelled') return '🛑 Cancelled';
  switch (s.phase) {
    case 'queued':
      return '⏳ Starting…';
    case 'inversion':
      return `🔄 Inverting${percent(s)}`;
    case 'editing':
    case 'denoising':
      return `🎨 Editing${percent(s)}${s.cacheHit ? ' (re-using the inversion)' : ''}`;
    case 'boosting':
      return `✨ Boosting${percent(s)}`;
    case 'encoding':
    case 'finishing':
    case 'finished':
      return '📦 Finishing…';
  }
}

/**
 * Sends status lines at most once per interval and never two at once; repeated lines are dropped.
 * Chat platforms rate-limit message edits, and a person cannot read faster than this anyway.
 */
export class StatusThrottle {
  private lastSentAt = -Infinity;
  private lastText = '';
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (text: string) => Promise<void>,
    private readonly intervalMs = 1500,
    private readonly now: () => number = Date.now,
  ) {}

  update(text: string): void {
    const t = this.now();
    if (text === this.lastText || t - this.lastSentAt < this.intervalMs) return;
    this.lastSentAt = t;
    this.lastText = text;
    // A failed status edit must not fail the job: the result is what matters.
    this.inFlight = this.inFlight.then(() => this.send(text)).catch(() => undefined);
  }

  /** Waits for the edit in flight, so the final message is not overwritten by a late status. */
  settle(): Promise<void> {
    return this.inFlight;
  }
}
