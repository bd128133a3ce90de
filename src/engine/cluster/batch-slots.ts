/**
 * How many jobs a worker's BullMQ Worker for one model may hold: the jobs it runs plus its free batch
 * slots. A job is one sample, except a sweep (one per strength), so a fixed concurrency of maxBatch jobs
 * would let a worker take eight 4-sample sweeps, run two and hold six that an idle worker could run.
 * The width of a job is only known once BullMQ has handed it over, so a worker may hold one job more
 * than its free slots for the length of a tick; never more.
 */
import { DEFAULT_SWEEP } from '../service/job.js';
import type { ClusterJobData } from './contract.js';

export class BatchSlots {
  private jobs = 0;
  private samples = 0;

  constructor(private readonly maxBatch: number) {}

  /** Samples a job puts in a batch (as the local engine's Job.width counts them). */
  static width(data: Pick<ClusterJobData, 'kind' | 'strengths'>): number {
    return data.kind === 'sweep' ? (data.strengths?.length ?? DEFAULT_SWEEP.length) : 1;
  }

  take(width: number): void {
    this.jobs++;
    this.samples += width;
  }

  release(width: number): void {
    this.jobs--;
    this.samples -= width;
  }

  /** The BullMQ concurrency to set now (at least 1: BullMQ refuses 0). */
  get concurrency(): number {
    return Math.max(1, this.jobs + Math.max(0, this.maxBatch - this.samples));
  }

  get busy(): number {
    return this.samples;
  }
}
