/**
 * The API node's view of the BullMQ queues, one per model (contract.ts, queueName): opening them, finding
 * a job by the id the API returned (an index key says which model queue holds it), its place in line,
 * and the counts the caps and metrics use.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { clusterKeys, queueName, type ClusterJobData, type ClusterFinal } from './contract.js';
import type { JobView } from './cluster-status.js';

export type ClusterJob = Job<ClusterJobData, ClusterFinal>;

/** API-side keys (contract.ts has the shared ones): which model queue holds a job, and every model queue used. */
export const apiKeys = {
  /** The model id of a job, set when it is accepted (with NX: the claim that dedupes an idempotency key). */
  jobModel: (prefix: string, jobId: string) => `${prefix}:job:${jobId}`,
  /** Every model a job was ever queued for: its queue is watched even when no live worker serves it. */
  queues: (prefix: string) => `${prefix}:queues`,
};

export interface QueueCounts {
  readonly queued: number;
  readonly active: number;
}

export class ClusterQueues {
  private readonly queues = new Map<string, Queue<ClusterJobData, ClusterFinal>>();

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    /** Connection errors of a queue (it reconnects by itself); logged, never thrown. */
    private readonly onError: (modelId: string, err: Error) => void = () => undefined,
  ) {}

  queue(modelId: string): Queue<ClusterJobData, ClusterFinal> {
    let q = this.queues.get(modelId);
    if (!q) {
      // A Queue only sends commands (no blocking reads), so it shares the node's connection.
      q = new Queue<ClusterJobData, ClusterFinal>(queueName(modelId), { connection: this.redis, prefix: this.prefix });
      q.on('error', (err) => this.onError(modelId, err));
      this.queues.set(modelId, q);
    }
    return q;
  }

  /** Model ids with a queue: every one a job was queued for, plus `alsoServed` (the live workers' models). */
  async models(alsoServed: readonly string[] = []): Promise<string[]> {
    const known = await this.redis.smembers(apiKeys.queues(this.prefix));
    return [...new Set([...known, ...alsoServed])].sort();
  }

  async modelOf(id: string): Promise<string | null> {
    return this.redis.get(apiKeys.jobModel(this.prefix, id));
  }

  /** The job with this id, read with its state; null when no queue holds it (never accepted, or expired). */
  async find(id: string): Promise<{ job: ClusterJob; view: JobView } | null> {
    const modelId = await this.modelOf(id);
    if (!modelId) return null;
    const queue = this.queue(modelId);
    // The state first, then the job: a job read first and finished in between would pair "completed"
    // with a hash read before the return value was written. Read the other way round, the job can only
    // be further along than its state says, which reads as the earlier state.
    const state = await queue.getJobState(id);
    if (state === 'unknown') return null;
    const job = await queue.getJob(id);
    if (!job) return null;
    return { job, view: viewOf(job, state) };
  }

  /** 1-based place of a waiting job in its model's line (prioritized jobs come after any plain waiting ones). */
  async position(modelId: string, id: string): Promise<number> {
    const k = (s: string) => clusterKeys.bull(this.prefix, modelId, s);
    const rows = (await this.redis.multi().llen(k('wait')).zrank(k('prioritized'), id).lpos(k('wait'), id).exec()) ?? [];
    const [waitLen, rank, waitIndex] = rows.map(([, v]) => (v === null || v === undefined ? null : Number(v)));
    // Workers take the wait list from its right end, then the prioritized set in score order.
    if (rank !== null && rank !== undefined) return (waitLen ?? 0) + rank + 1;
    if (waitIndex !== null && waitIndex !== undefined) return (waitLen ?? 0) - waitIndex;
    return 0;
  }

  async counts(modelId: string): Promise<QueueCounts> {
    const c = await this.queue(modelId).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { queued: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

export function viewOf(job: ClusterJob, state: string): JobView {
  return {
    id: job.id!,
    data: job.data,
    state,
    progress: job.progress,
    returnvalue: job.returnvalue,
    failedReason: job.failedReason,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
  };
}
