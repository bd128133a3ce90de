/**
 * Completion: a job whose samples are all generated has its results written beside the batch loop's
 * ticks, not between them.
 */
import type { Logger } from '../../log/logger.js';
import type { LoadedModel } from '../loaded-model.js';
import type { EventLoopTurns } from './event-loop-turns.js';
import type { Job } from './job.js';
import type { JobFiles } from './job-files.js';
import { writeJobResults } from './job-results.js';

/** What completion reads of the engine service, and how it ends a job. */
export interface CompletionContext {
  readonly files: JobFiles;
  readonly turns: EventLoopTurns;
  jobLog(id: string): Logger;
  /** Ends a job as done (its final state recorded). */
  done(job: Job): void;
  /** A job whose results could not be written: it fails with a code. */
  failJob(job: Job, e: unknown): void;
  /** A job left the batch's writes: the loop wakes. */
  wake(): void;
}

export class JobCompletions {
  /**
   * Running jobs whose samples are all generated and whose results are being written. They stay in
   * `running` (they count for their owner, health and drain until recorded) but hold no place in a
   * batch: the next tick runs without waiting for their files (see tick()).
   */
  private readonly completing = new Map<string, Promise<void>>();

  constructor(private readonly ctx: CompletionContext) {}

  has(id: string): boolean {
    return this.completing.has(id);
  }

  /** Settles when every write in progress has. */
  settled(): Promise<void[]> {
    return Promise.all(this.completing.values());
  }

  /**
   * Writes a finished job's results without holding up the batch: the next tick (of the jobs still
   * generating, and of those admitted in the place this one leaves) starts at once, and its UNet call
   * runs in the inference worker while these files are encoded and synced. A batch's jobs often end on
   * the same tick; awaited one by one, their writes had left the UNet idle 0.45-0.75 s per batch of 16
   * (docs/benchmarks.md). complete() never rejects: a failure fails the job.
   */
  begin(job: Job, model: LoadedModel): Promise<void> {
    const done = this.complete(job, model)
      .catch((e: unknown) => this.ctx.jobLog(job.id).error('unexpected error while writing the results', { err: e }))
      .finally(() => {
        this.completing.delete(job.id);
        this.ctx.wake();
      });
    this.completing.set(job.id, done);
    return done;
  }

  private async complete(job: Job, model: LoadedModel): Promise<void> {
    const { files } = this.ctx;
    job.beginEncoding();
    try {
      await files.ensureDir(job.id);
      job.results = await writeJobResults(job, files.dir(job.id), model.manifest.resolution);
      await this.ctx.turns.next();
      this.ctx.done(job);
    } catch (e) {
      this.ctx.failJob(job, e);
    }
  }
}
