/**
 * A minimal API side of the Redis contract (src/engine/cluster/contract.ts) for worker tests: put the
 * input blob, take a fairness round, add the BullMQ job, and read its final state. The product's API
 * role does the same behind the HTTP API; these tests exercise the worker against the contract itself.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus, SubmitRequest } from '../../src/engine/client/api-types.js';
import { RedisBlobStore } from '../../src/engine/cluster/blob-store.js';
import { CLUSTER_DEFAULTS, clusterJobData, clusterKeys, idempotentJobId, newJobId, queueName, type ClusterProgress, type ClusterSettings } from '../../src/engine/cluster/contract.js';
import { FairRounds } from '../../src/engine/cluster/fair-rounds.js';
import { openRedis, redisOptions } from '../../src/engine/cluster/redis-connection.js';

export interface Final {
  readonly state: 'completed' | 'failed';
  readonly status?: JobStatus;
  readonly reason?: string;
  readonly attemptsStarted: number;
}

export class ClusterDriver {
  readonly redis: Redis;
  readonly blobs: RedisBlobStore;
  private readonly rounds: FairRounds;
  private readonly queues = new Map<string, Queue>();
  private readonly events: QueueEvents[] = [];

  constructor(
    readonly url: string,
    readonly settings: ClusterSettings = { ...CLUSTER_DEFAULTS, prefix: 'test' },
  ) {
    this.redis = openRedis(url, 'driver');
    this.blobs = new RedisBlobStore(this.redis, { maxBytes: settings.maxBlobBytes, ttlSeconds: settings.blobTtlSeconds });
    this.rounds = new FairRounds(this.redis, settings.prefix);
  }

  queue(modelId: string): Queue {
    let q = this.queues.get(modelId);
    if (!q) this.queues.set(modelId, (q = new Queue(queueName(modelId), { connection: redisOptions(this.url, 'driver-q'), prefix: this.settings.prefix })));
    return q;
  }

  async submit(req: Omit<SubmitRequest, 'imageBase64'> & { image: Buffer; model: string }): Promise<string> {
    const id = req.idempotencyKey ? idempotentJobId(req.owner, req.idempotencyKey) : newJobId();
    const inputKey = clusterKeys.blob(this.settings.prefix, id, 'input');
    await this.blobs.put(inputKey, req.image);
    const slot = await this.rounds.assign(req.model, req.owner);
    const { image: _image, ...rest } = req;
    const data = clusterJobData(rest, { modelId: req.model, inputKey, submittedAt: Date.now(), round: slot.round });
    await this.queue(req.model).add('edit', data, { jobId: id, priority: slot.priority });
    return id;
  }

  /** Polls until the job is completed or failed in BullMQ. */
  async final(modelId: string, id: string, timeoutMs = 45_000): Promise<Final> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // State first, then the job: a job read before it finished would carry no return value yet.
      const state = await this.queue(modelId).getJobState(id);
      const job = state === 'completed' || state === 'failed' ? await this.queue(modelId).getJob(id) : undefined;
      if (job && (state === 'completed' || state === 'failed')) {
        return state === 'completed'
          ? { state, status: job.returnvalue as JobStatus, attemptsStarted: job.attemptsStarted }
          : { state, reason: job.failedReason, attemptsStarted: job.attemptsStarted };
      }
      if (Date.now() > deadline) throw new Error(`job ${id} not finished within ${timeoutMs} ms (state ${state})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every progress update of the model's queue, as the API's QueueEvents sees them. */
  async listen(modelId: string, onProgress: (jobId: string, p: ClusterProgress) => void): Promise<void> {
    const ev = new QueueEvents(queueName(modelId), { connection: redisOptions(this.url, 'driver-ev'), prefix: this.settings.prefix });
    ev.on('progress', ({ jobId, data }) => onProgress(jobId, data as ClusterProgress));
    await ev.waitUntilReady();
    this.events.push(ev);
  }

  async cancel(id: string): Promise<void> {
    await this.redis.set(clusterKeys.cancel(this.settings.prefix, id), '1', 'EX', 600);
    await this.redis.publish(clusterKeys.cancelChannel(this.settings.prefix), id);
  }

  async close(): Promise<void> {
    for (const e of this.events) await e.close();
    for (const q of this.queues.values()) await q.close();
    await this.redis.quit();
  }
}
