/**
 * The caps of an API node, as the single engine answers them (docs/engine-api.md, Admission): the queue
 * over every model (engine.maxQueued, BUSY) and each owner's unfinished jobs (engine.maxQueuedPerOwner,
 * OWNER_LIMIT), with a Retry-After from how long recent jobs took and the slots of the live workers.
 */
import type { Redis } from 'ioredis';
import { ServiceError } from '../service/service-error.js';
import { ownerWaitMs, queueWaitMs } from '../service/throughput.js';
import { clusterKeys } from './contract.js';
import type { ClusterQueues } from './cluster-queues.js';
import { FINAL_STATES, statusOf } from './cluster-status.js';
import type { WorkerDirectory } from './worker-directory.js';

export interface RoomOptions {
  readonly redis: Redis;
  readonly queues: ClusterQueues;
  readonly directory: WorkerDirectory;
  readonly maxQueued: number;
  readonly maxQueuedPerOwner: number;
  readonly maxAttempts: number;
}

/** What one job takes when nothing has finished yet (the local engine's guess too). */
const TYPICAL_JOB_MS = 5000;

export class ClusterRoom {
  constructor(private readonly o: RoomOptions) {}

  /** Jobs waiting and running over every model queue. */
  async totals(): Promise<{ queued: number; active: number; models: string[] }> {
    const served = (await this.o.directory.models(null)).map((m) => m.id);
    const models = await this.o.queues.models(served);
    const counts = await Promise.all(models.map((m) => this.o.queues.counts(m)));
    return { queued: counts.reduce((n, c) => n + c.queued, 0), active: counts.reduce((n, c) => n + c.active, 0), models };
  }

  /** Throws BUSY or OWNER_LIMIT (with retryAfterMs) when there is no room for one more job of `owner`. */
  async check(owner: string): Promise<void> {
    const t = await this.totals();
    if (t.queued >= this.o.maxQueued) {
      const { jobMs, slots } = await this.pace(t.models);
      const retryAfterMs = queueWaitMs(t.queued - this.o.maxQueued + 1, slots / jobMs, t.active, jobMs);
      throw new ServiceError('BUSY', `the queue is full (${t.queued} jobs); try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
    const key = clusterKeys.owner(this.o.queues.prefix, owner);
    if ((await this.o.redis.scard(key)) < this.o.maxQueuedPerOwner) return;
    // The set may hold jobs whose end nobody recorded (a node died at that moment): look before refusing.
    const jobs: ({ remaining: number } | { position: number })[] = [];
    for (const id of await this.o.redis.smembers(key)) {
      const found = await this.o.queues.find(id);
      const status = found ? statusOf(found.view, 0, null, this.o.maxAttempts) : null;
      if (!status || FINAL_STATES.has(status.state)) {
        await this.o.redis.srem(key, id);
        continue;
      }
      if (status.state === 'running') jobs.push({ remaining: status.total ? Math.max(0, 1 - status.step / status.total) : 1 });
      else jobs.push({ position: Math.max(1, await this.o.queues.position(status.model, id)) });
    }
    if (jobs.length < this.o.maxQueuedPerOwner) return;
    const { jobMs, slots } = await this.pace(t.models);
    const running = Math.max(1, Math.min(slots, t.active));
    const retryAfterMs = ownerWaitMs({
      rate: running / jobMs,
      runningRemaining: Array.from({ length: running }, () => 0.5),
      ownerJobs: jobs,
      ownerNeeds: jobs.length - this.o.maxQueuedPerOwner + 1,
      typicalJobMs: jobMs,
    });
    throw new ServiceError('OWNER_LIMIT', `you already have ${this.o.maxQueuedPerOwner} edits waiting; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }

  /** Mean time of the last jobs finished (start to end, any model), and the live workers' slots. */
  private async pace(models: readonly string[]): Promise<{ jobMs: number; slots: number }> {
    const recent = (await Promise.all(models.map((m) => this.o.queues.queue(m).getCompleted(0, 19)))).flat();
    const spans = recent.filter((j) => j.processedOn && j.finishedOn).map((j) => j.finishedOn! - j.processedOn!);
    const jobMs = spans.length ? Math.max(1, spans.reduce((a, b) => a + b, 0) / spans.length) : TYPICAL_JOB_MS;
    const slots = Math.max(1, (await this.o.directory.list()).reduce((n, w) => n + w.slots, 0));
    return { jobMs, slots };
  }
}
