/**
 * How often a worker sends a job's progress through Redis: at most once per `minIntervalMs`, except that
 * a change of phase or state always goes out at once (a client must see "inversion" turn to "editing").
 * Every update is a Redis write and an event on every API node, so per-step updates would cost more than
 * a small model's step.
 */
import type { JobStatus } from '../client/api-types.js';

export class ProgressThrottle {
  private lastAt = Number.NEGATIVE_INFINITY;
  private lastPhase = '';

  constructor(
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this status goes out; when it does, it becomes the last one sent. */
  admit(status: JobStatus): boolean {
    const phase = `${status.state}/${status.phase}`;
    const t = this.now();
    if (phase === this.lastPhase && t - this.lastAt < this.minIntervalMs) return false;
    this.lastAt = t;
    this.lastPhase = phase;
    return true;
  }
}
