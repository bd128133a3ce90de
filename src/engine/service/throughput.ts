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
    // The window starts at its oldest finish and counts the finishes after that instant (a batch ends in
    // one tick: the oldest finish's batch-mates are not after it). Never from the engine's start once
    // there is a later finish: the first jobs carry what later ones do not (onnxruntime's first-call
    // allocations, the JIT, inversions the cache then saves), and counting them made the advice run
    // 2-5x high after a short warm-up (docs/benchmarks.md).
    const start = this.finishes[0]!;
    let count = 0;
    for (const f of this.finishes) if (f > start) count++;
    const from = count ? start : 0;
    const span = this.busyAt(now) - from;
    return span > 0 ? (count || n) / span : null;
  }
}

export interface WaitInputs {
  /** Jobs per ms (Throughput.rate), or null before it is measured. */
  readonly rate: number | null;
  /** The share of its steps each running job (all owners) still has to do (0..1). */
  readonly runningRemaining: readonly number[];
  /** For each of the owner's jobs: its remaining share if running, or its 1-based queue position if queued. */
  readonly ownerJobs: readonly ({ readonly remaining: number } | { readonly position: number })[];
  /** How many of them must finish before the owner is under the limit again. */
  readonly ownerNeeds: number;
  /** Fallback when nothing is measured yet: ms one job takes. */
  readonly typicalJobMs: number;
}

/**
 * When the owner will be under their limit again: the `ownerNeeds`-th of their jobs to finish. A job
 * takes D = running / rate from start to end (Little's law: jobs in service over the rate they leave;
 * measured on whole jobs, so decoding and encoding count, not only UNet steps). Each running job frees
 * its slot after its remaining share of D; a freed slot takes the next queued job, which frees it D
 * later. So the job at queue position p starts when the p-th slot frees, and ends D after that.
 */
export function ownerWaitMs(w: WaitInputs): number {
  const running = w.runningRemaining.length;
  const jobMs = w.rate ? Math.max(1, running) / w.rate : w.typicalJobMs;
  const slots = running ? w.runningRemaining.map((r) => Math.max(0, r) * jobMs) : [0];
  const maxPosition = Math.max(0, ...w.ownerJobs.map((j) => ('position' in j ? j.position : 0)));
  // starts[p - 1]: when the job at position p starts (slots freeing in time order, refilled D later).
  const starts: number[] = [];
  for (let p = 1; p <= maxPosition; p++) {
    let i = 0;
    for (let k = 1; k < slots.length; k++) if (slots[k]! < slots[i]!) i = k;
    starts.push(slots[i]!);
    slots[i] = slots[i]! + jobMs;
  }
  const ends = w.ownerJobs.map((j) => ('position' in j ? starts[j.position - 1]! + jobMs : j.remaining * jobMs)).sort((a, b) => a - b);
  return Math.max(1000, Math.round(ends[Math.min(ends.length, Math.max(1, w.ownerNeeds)) - 1] ?? jobMs));
}

/** When the full queue has room again: `needed` jobs must leave it, one per finish. */
export function queueWaitMs(needed: number, rate: number | null, running: number, typicalJobMs: number): number {
  const perJob = rate ? 1 / rate : typicalJobMs / Math.max(1, running);
  return Math.max(1000, Math.round(Math.max(1, needed) * perJob));
}
