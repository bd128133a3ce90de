/**
 * Jobs finished per unit of busy time, measured over the recent finishes, and the waits it predicts for a
 * refused submitter (Retry-After). Busy time only: an engine that sat idle for an hour and then ran a
 * burst has the burst's rate, not one job an hour.
 */

/** Finishes the rate is measured over. */
const WINDOW = 32;

export class Throughput {
  private busyMs = 0;
  private lastAt: number | null = null;
  private busy = false;
  /** The busy clock at each recent finish (one more than the window: the window starts at the oldest). */
  private readonly finishes: number[] = [];

  /** Called whenever the worker looks at its running set (every tick and every idle wake). */
  observe(now: number, busy: boolean): void {
    this.busyMs = this.busyAt(now);
    this.lastAt = now;
    this.busy = busy;
  }

  finished(now: number): void {
    this.observe(now, this.busy);
    this.finishes.push(this.busyMs);
    if (this.finishes.length > WINDOW + 1) this.finishes.shift();
  }

  private busyAt(now: number): number {
    return this.busy && this.lastAt !== null ? this.busyMs + Math.max(0, now - this.lastAt) : this.busyMs;
  }

  /**
   * Jobs per millisecond of busy time, or null before the first finish. Counted up to now, not up to the
   * last finish: batched jobs finish in clusters (a whole batch in one tick), and the time between two
   * finishes of one cluster says nothing about the rate; the time since the window began does.
   */
  rate(now: number): number | null {
    const n = this.finishes.length;
    if (n === 0) return null;
    // Until the window is full it starts when busy time started counting (0); then at its oldest finish.
    const full = n > WINDOW;
    const span = this.busyAt(now) - (full ? this.finishes[0]! : 0);
    const count = full ? n - 1 : n;
    return span > 0 ? count / span : null;
  }
}

export interface WaitInputs {
  /** Jobs per ms (Throughput.rate), or null before it is measured. */
  readonly rate: number | null;
  /** Jobs running now, all owners. */
  readonly running: number;
  /** For each of the owner's jobs: the share of a running job's steps still to do (0..1), or the 1-based queue position of a queued one. */
  readonly ownerJobs: readonly ({ readonly remaining: number } | { readonly position: number })[];
  /** How many of them must finish before the owner is under the limit again. */
  readonly ownerNeeds: number;
  /** Fallback when nothing is measured yet: ms one job takes. */
  readonly typicalJobMs: number;
}

/**
 * When the owner will be under their limit again: the `ownerNeeds`-th of their jobs to finish. A job
 * takes about running / rate from start to end (Little's law: jobs in service over the rate they leave;
 * measured on whole jobs, so decoding and encoding count, not only UNet steps). A running job has its
 * remaining share of that left; a queued job at position p starts once p jobs have finished (each finish
 * frees a batch slot, round robin) and then takes the whole of it.
 */
export function ownerWaitMs(w: WaitInputs): number {
  const perJob = w.rate ? 1 / w.rate : w.typicalJobMs / Math.max(1, w.running);
  const service = w.rate ? Math.max(1, w.running) / w.rate : w.typicalJobMs;
  const ends = w.ownerJobs.map((j) => ('position' in j ? j.position * perJob + service : j.remaining * service)).sort((a, b) => a - b);
  return Math.max(1000, Math.round(ends[Math.min(ends.length, Math.max(1, w.ownerNeeds)) - 1] ?? perJob));
}

/** When the full queue has room again: `needed` jobs must leave it, one per finish. */
export function queueWaitMs(needed: number, rate: number | null, running: number, typicalJobMs: number): number {
  const perJob = rate ? 1 / rate : typicalJobMs / Math.max(1, running);
  return Math.max(1000, Math.round(Math.max(1, needed) * perJob));
}
