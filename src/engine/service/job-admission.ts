/**
 * Admission: queued jobs move into the running set while their model's batch has room, round robin by
 * owner. It runs beside the batch loop's ticks (the engine service starts it each turn of its loop).
 */
import type { Logger } from '../../log/logger.js';
import type { EngineServiceOptions } from './engine-service-options.js';
import type { JobQueue } from './fair-queue.js';
import type { Job } from './job.js';
import type { SubmitPlaces } from './submit-places.js';

/** Jobs admitted together whose inputs are read and decoded at the same time (admit()). */
const START_CONCURRENCY = 4;

/** What admission reads of the engine service, and how it hands over a job that started (or failed). */
export interface AdmissionContext {
  readonly opts: Pick<EngineServiceOptions, 'maxBatch' | 'maxRunningPerOwner'>;
  readonly queue: JobQueue<Job>;
  readonly running: ReadonlyMap<string, Job>;
  readonly places: SubmitPlaces;
  readonly log: Logger;
  /** Intake stopped: nothing more is admitted. */
  draining(): boolean;
  /** Running jobs of a model that still have samples in its batch. */
  runningOn(modelId: string): Job[];
  /** Prepares a queued job to run (job-start.ts). */
  startJob(job: Job): Promise<void>;
  /** A job whose start failed: it fails alone, with a code. */
  failJob(job: Job, e: unknown): void;
  /** A started job joins the running set. */
  join(job: Job): void;
  /** Jobs joined: an idle loop wakes. */
  wake(): void;
}

export class JobAdmission {
  /** The admission in progress (admit()), which runs beside the ticks. */
  private admitting: Promise<void> | null = null;

  constructor(private readonly ctx: AdmissionContext) {}

  /** Settles when the admission in progress (if any) has. */
  settled(): Promise<void> | null {
    return this.admitting;
  }

  /**
   * Starts admitting queued jobs unless an admission is in progress. It runs beside the ticks: while a
   * UNet call computes in the inference worker, the main thread reads and decodes the next jobs' inputs
   * and commits their rows, and they join the batch at the tick after (before, the UNet waited ~10 ms
   * per admitted job). One that admitted jobs wakes an idle loop.
   */
  start(): void {
    if (this.admitting || this.ctx.draining() || this.ctx.queue.size === 0) return;
    this.admitting = this.admit()
      .catch((e: unknown) => {
        this.ctx.log.error('admission error (the worker goes on)', { err: e });
        return 0;
      })
      .then((admitted) => {
        this.admitting = null;
        if (admitted > 0) this.ctx.wake();
      });
  }

  /**
   * Moves queued jobs into the running set while their model's batch has room, round robin by owner.
   * The jobs admitted together start together (their inputs read and decoded side by side, on libuv's
   * pool) and join the batch in the order they were taken from the queue; a start that fails fails its
   * job alone. Returns how many joined.
   */
  private async admit(): Promise<number> {
    const { ctx } = this;
    if (ctx.draining()) return 0;
    const starting: { job: Job; release: () => void; started: Promise<unknown> }[] = [];
    const widthStarting = new Map<string, number>();
    const ownerStarting = new Map<string, number>();
    for (;;) {
      const job = ctx.queue.shift((j) => {
        const model = j.request.model;
        const load = ctx.runningOn(model).reduce((n, r) => n + r.width, 0) + (widthStarting.get(model) ?? 0);
        const ownerRunning = [...ctx.running.values()].filter((r) => r.owner === j.owner).length + (ownerStarting.get(j.owner) ?? 0);
        return load + j.width <= ctx.opts.maxBatch && ownerRunning < ctx.opts.maxRunningPerOwner;
      });
      if (!job) break;
      widthStarting.set(job.request.model, (widthStarting.get(job.request.model) ?? 0) + job.width);
      ownerStarting.set(job.owner, (ownerStarting.get(job.owner) ?? 0) + 1);
      // While its input is decoded the job is in neither the queue nor the running set: a place keeps it
      // counted against its owner's limit, or a submit in that gap would find room that is not there.
      const release = ctx.places.take(job.owner);
      // The failure is kept as the value (handled at once), so a start that fails while an earlier one is
      // awaited is no unhandled rejection. At most START_CONCURRENCY decode at once (libuv's pool has 4
      // threads; a user's photo may be 50 MP): each waits for the start that many places before it.
      const before = starting[starting.length - START_CONCURRENCY]?.started ?? Promise.resolve();
      const started = before
        .then(() => ctx.startJob(job))
        .then(
          () => null,
          (e: unknown) => ({ failed: e }),
        );
      starting.push({ job, release, started });
    }
    let admitted = 0;
    for (const { job, release, started } of starting) {
      try {
        const outcome = (await started) as { failed: unknown } | null;
        if (outcome) ctx.failJob(job, outcome.failed);
        else {
          admitted++;
          ctx.join(job);
        }
      } catch (e) {
        ctx.failJob(job, e);
      } finally {
        release();
      }
    }
    return admitted;
  }
}
