/**
 * Durable recording of jobs' final states: final.json, then the database row. A final state that cannot
 * be recorded yet is held here and retried; at start-up, final states that reached final.json but not
 * the database are applied (a crash or a failed write between the two). final.json is written off the
 * event loop (its fsyncs on libuv's pool), one attempt per job at a time; `settled()` waits for them.
 */
import type { ApiError, ResultVariant } from '../client/api-types.js';
import type { Logger } from '../../log/logger.js';
import type { JobFiles } from './job-files.js';
import type { JobStore } from './job-store.js';
import { Job, type FinalState } from './job.js';
import { toApiError } from './service-error.js';

/** How often a final state that could not be recorded is tried again. */
export const RECORD_RETRY_MS = 500;

export interface FinalStatesOptions {
  readonly store: JobStore;
  readonly files: JobFiles;
  readonly jobLog: (id: string) => Logger;
  /** Called once per job when either record is written: the job may then be reported final. */
  readonly reportFinal: (job: Job) => void;
}

export class FinalStates {
  /** Ended jobs whose final state is not fully recorded yet (final.json, the database row, or both). */
  private readonly unrecorded = new Map<string, { job: Job; fileDone: boolean; lastTry: number; attempt: Promise<boolean> | null }>();

  constructor(private readonly opts: FinalStatesOptions) {}

  /** Jobs whose final state is still being recorded. */
  get size(): number {
    return this.unrecorded.size;
  }

  has(id: string): boolean {
    return this.unrecorded.has(id);
  }

  /**
   * Applies final states that reached final.json but not the database, before unfinished jobs are
   * requeued; a job the database still cannot take is held as ended (handed to `hold`) and retried.
   * Returns how many jobs had a final.json ahead of the database.
   */
  reconcile(hold: (job: Job) => void): number {
    const { store, files } = this.opts;
    let reconciled = 0;
    for (const row of store.listUnfinished()) {
      const final = files.readFinal(row.id);
      if (!final) continue;
      reconciled++;
      const request = files.request(row.id, row.request);
      try {
        this.markFinal(row.id, final.state, final.error, final.results, true);
      } catch (e) {
        // The database still cannot take it: hold the job as ended in memory and keep trying.
        this.opts.jobLog(row.id).warn('cannot record the final state yet; retrying', { state: final.state, reason: toApiError(e).message });
        if (!request) continue;
        const job = new Job(row.id, request);
        job.settle({ state: final.state, error: final.error, finishedAt: final.finishedAt });
        job.results = final.results;
        hold(job);
        this.unrecorded.set(job.id, { job, fileDone: true, lastTry: Date.now(), attempt: null });
      }
    }
    return reconciled;
  }

  /** Starts recording a job that has just settled; it is reported final once a record is durable. */
  record(job: Job): void {
    this.unrecorded.set(job.id, { job, fileDone: false, lastTry: 0, attempt: null });
    this.attempt(job.id);
  }

  /** Tries again the records that are due (all of them when `now`); one attempt per job at a time. */
  retry(now: boolean): void {
    for (const [id, entry] of [...this.unrecorded]) if (!entry.attempt && (now || Date.now() - entry.lastTry >= RECORD_RETRY_MS)) this.attempt(id);
  }

  /** Resolves when no attempt is in flight (those started meanwhile included); never rejects. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.unrecorded.values()].flatMap((e) => (e.attempt ? [e.attempt] : []));
      if (!pending.length) return;
      await Promise.allSettled(pending);
    }
  }

  /** Resolves when the attempt in flight for a job, if any, has ended. */
  async attempted(id: string): Promise<void> {
    await this.unrecorded.get(id)?.attempt?.catch(() => undefined);
  }

  private attempt(id: string): void {
    const entry = this.unrecorded.get(id);
    if (!entry || entry.attempt) return;
    const attempt = this.tryRecord(id);
    entry.attempt = attempt;
    const clear = () => {
      if (entry.attempt === attempt) entry.attempt = null;
    };
    void attempt.then(clear, clear);
  }

  /** One attempt at recording a settled job; true once the database holds its final state. Never rejects. */
  private async tryRecord(id: string): Promise<boolean> {
    const entry = this.unrecorded.get(id);
    if (!entry) return true;
    const { job } = entry;
    const s = job.settled!;
    entry.lastTry = Date.now();
    if (!entry.fileDone) {
      try {
        await this.opts.files.writeFinal(job.id, { ...s, results: job.results });
        entry.fileDone = true;
      } catch (e) {
        this.opts.jobLog(job.id).warn('cannot write final.json; retrying', { state: s.state, reason: toApiError(e).message });
      }
    }
    let rowDone = false;
    try {
      this.markFinal(job.id, s.state, s.error, job.results, entry.fileDone);
      rowDone = true;
    } catch (e) {
      this.opts.jobLog(job.id).warn('cannot record the final state in the database; retrying', { state: s.state, reason: toApiError(e).message });
    }
    // Either record is enough for a restart never to run the job again, so either lets it be reported.
    if ((entry.fileDone || rowDone) && !job.finished) this.opts.reportFinal(job);
    if (rowDone) this.unrecorded.delete(id);
    return rowDone;
  }

  /** Moves the database row to its final state, from whatever unfinished state it is in. */
  /**
   * `fileOnDisk`: final.json already holds this state durably, so the row's commit skips its own fsync (a
   * power cut that loses it is undone at the next start by reconcile, which reads final.json back); without
   * the file the row is the only record and is committed durably.
   */
  private markFinal(id: string, state: FinalState, error: ApiError | null, results: ResultVariant[], fileOnDisk: boolean): void {
    const durable = !fileOnDisk;
    const store = this.opts.store;
    const row = store.get(id);
    // A retry after a write that did land (the error came after the commit) finds the row final already.
    if (row?.status === state) return;
    if (state === 'done') {
      // markDone takes a running row; a done job recovered from final.json may have a queued one.
      if (row?.status === 'queued') store.markRunning(id);
      store.markDone(id, this.opts.files.dir(id), results, durable);
    } else if (state === 'failed') store.markFailed(id, error?.code ?? 'INTERNAL', durable);
    else store.markCancelled(id, durable);
  }
}
