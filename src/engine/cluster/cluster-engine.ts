/**
 * The engine API of an API node (engine.queue "redis", role api or both): docs/engine-api.md unchanged,
 * on BullMQ queues in Redis instead of the in-process queue. It holds no job in memory: every answer is
 * read from Redis, so API nodes are interchangeable and a restarted one has lost nothing.
 */
import type { Redis } from 'ioredis';
import type { HealthResponse, JobEvent, JobStatus, ModelInfo, ResultVariant, SubmitResponse } from '../client/api-types.js';
import { enlargeForDisplay } from '../image/display-size.js';
import type { ImageLimits } from '../image/image-io.js';
import type { Logger } from '../../log/logger.js';
import type { EngineApi, ResultBytes, SubmitInput } from '../service/engine-api.js';
import { RESULT_FILES } from '../service/job-results.js';
import { ApiFailure, ServiceError } from '../service/service-error.js';
import type { BlobStore } from './blob-store.js';
import { ClusterError, isClusterError, toClusterApiError } from './cluster-error.js';
import { ApiNodeMetrics } from './api-node-metrics.js';
import { ClusterQueues } from './cluster-queues.js';
import { ClusterRoom } from './cluster-room.js';
import { FINAL_STATES, asStatus, cancelledStatus, statusOf } from './cluster-status.js';
import { submitClusterJob } from './cluster-submit.js';
import { clusterKeys, type ClusterSettings } from './contract.js';
import { FairRounds } from './fair-rounds.js';
import { ProgressRelay } from './progress-relay.js';
import type { RedisOptions } from 'ioredis';
import { WorkerDirectory } from './worker-directory.js';

export interface ClusterEngineOptions {
  /** Commands (shared by the queues, the blob store and the scripts). */
  readonly redis: Redis;
  /** For the QueueEvents readers, which each open a blocking connection. */
  readonly eventsConnection: RedisOptions;
  readonly blobs: BlobStore;
  readonly settings: ClusterSettings;
  readonly limits: ImageLimits;
  readonly maxBatch: number;
  readonly maxQueued: number;
  readonly maxQueuedPerOwner: number;
  readonly defaultModel: string | null;
  readonly version: string;
  readonly log: Logger;
}

export class ClusterEngine implements EngineApi {
  private readonly queues: ClusterQueues;
  private readonly directory: WorkerDirectory;
  private readonly room: ClusterRoom;
  private readonly fair: FairRounds;
  private readonly relay: ProgressRelay;
  private readonly metrics: ApiNodeMetrics;
  private draining = false;

  constructor(private readonly o: ClusterEngineOptions) {
    const prefix = o.settings.prefix;
    this.queues = new ClusterQueues(o.redis, prefix, (model, err) => o.log.warn('queue connection error (it reconnects)', { model, err: err.message }));
    this.directory = new WorkerDirectory(o.redis, prefix);
    this.fair = new FairRounds(o.redis, prefix);
    this.room = new ClusterRoom({ redis: o.redis, queues: this.queues, directory: this.directory, maxQueued: o.maxQueued, maxQueuedPerOwner: o.maxQueuedPerOwner, maxAttempts: o.settings.maxAttempts });
    this.relay = new ProgressRelay({
      connection: o.eventsConnection,
      prefix,
      blobs: o.blobs,
      minIntervalMs: o.settings.progressMinIntervalMs,
      readStatus: (id) => this.lookup(id),
      log: o.log,
    });
    this.metrics = new ApiNodeMetrics({ queues: this.queues, directory: this.directory, relay: this.relay });
  }

  /** Starts the event readers of every model queue known now (others start on first use). */
  async start(): Promise<void> {
    const served = (await this.directory.models(null)).map((m) => m.id);
    for (const m of await this.queues.models(served)) await this.relay.watch(m);
  }

  /** Refuses new submits (SHUTTING_DOWN); status, results and streams go on until close. */
  drain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.draining = true;
    await this.relay.close();
    await this.queues.close();
  }

  submit(req: SubmitInput): Promise<SubmitResponse> {
    return this.guard(async () => {
      if (this.draining) throw new ServiceError('SHUTTING_DOWN', 'this API node is shutting down; try again shortly', { retryAfterMs: 5000 });
      const t0 = performance.now();
      const answer = await submitClusterJob(
        {
          redis: this.o.redis,
          queues: this.queues,
          blobs: this.o.blobs,
          fair: this.fair,
          directory: this.directory,
          room: this.room,
          limits: this.o.limits,
          maxBatch: this.o.maxBatch,
          defaultModel: this.o.defaultModel,
          blobTtlSeconds: this.o.settings.blobTtlSeconds,
        },
        req,
        (id) => this.existing(id),
      );
      if (!answer.duplicate) {
        this.metrics.submitted((performance.now() - t0) / 1000);
        const model = await this.queues.modelOf(answer.id);
        // Its progress reaches this node's listeners only once the model's events are read.
        if (model) void this.relay.watch(model).catch((err: unknown) => this.o.log.warn('queue events reader did not start', { model, err }));
      }
      return answer;
    });
  }

  status(id: string): Promise<JobStatus> {
    return this.guard(async () => {
      const s = await this.lookup(id);
      if (!s) throw new ServiceError('NOT_FOUND', `no job ${id.slice(0, 100)}`);
      return s;
    });
  }

  /**
   * A waiting job is removed from its queue by the API node at once; a running one is flagged and its
   * worker told (pub/sub), which stops it at the next step and returns the final status cancelled.
   */
  cancel(id: string): Promise<JobStatus> {
    return this.guard(async () => {
      const found = await this.queues.find(id);
      if (!found) return this.status(id);
      const { job, view } = found;
      const now = statusOf(view, 0, null, this.o.settings.maxAttempts);
      if (FINAL_STATES.has(now.state)) return now;
      const prefix = this.o.settings.prefix;
      const ttl = this.o.settings.blobTtlSeconds;
      if (now.state === 'queued') {
        // The final record first: a reader never finds neither the job nor its end.
        const final = cancelledStatus(id, job.data);
        await this.o.redis.set(clusterKeys.final(prefix, id), JSON.stringify(final), 'EX', ttl);
        try {
          await job.remove();
          await this.o.redis.multi().srem(clusterKeys.owner(prefix, job.data.owner), id).del(clusterKeys.blob(prefix, id, 'input')).exec();
          return final;
        } catch {
          // A worker took it meanwhile (BullMQ refuses to remove a locked job): cancel it as a running one.
          await this.o.redis.del(clusterKeys.final(prefix, id));
        }
      }
      await this.o.redis.multi().set(clusterKeys.cancel(prefix, id), '1', 'EX', ttl).publish(clusterKeys.cancelChannel(prefix), id).exec();
      return this.status(id);
    });
  }

  result(id: string, variant: ResultVariant): Promise<ResultBytes> {
    return this.guard(async () => {
      const s = await this.status(id);
      if (s.state !== 'done') throw new ServiceError('NOT_READY', `job ${id} is ${s.state}; results exist once it is done`);
      if (!s.results.includes(variant)) throw new ServiceError('NOT_FOUND', `job ${id} has no "${variant}" result; it has ${s.results.join(', ')}`);
      const bytes = await this.o.blobs.get(clusterKeys.blob(this.o.settings.prefix, id, variant));
      if (!bytes) throw new ServiceError('NOT_FOUND', `the result of job ${id} is no longer held (results are kept ${Math.round(this.o.settings.blobTtlSeconds / 3600)} h)`);
      return { bytes, contentType: RESULT_FILES[variant].contentType };
    });
  }

  displayResult(id: string, variant: ResultVariant, displaySize: number): Promise<ResultBytes> {
    return this.guard(async () => {
      const original = await this.result(id, variant);
      const s = await this.status(id);
      const models = await this.directory.models(null);
      const resolution = models.find((m) => m.id === s.model)?.resolution ?? Number.POSITIVE_INFINITY;
      const enlarged = await enlargeForDisplay(original.bytes, displaySize, resolution);
      return enlarged ? { bytes: enlarged, contentType: 'image/png' } : original;
    });
  }

  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): Promise<() => void> {
    return this.guard(async () => {
      const model = await this.queues.modelOf(id);
      const known = model !== null || (await this.o.redis.exists(clusterKeys.final(this.o.settings.prefix, id))) > 0;
      if (!known) throw new ServiceError('NOT_FOUND', `no job ${id.slice(0, 100)}`);
      if (model) await this.relay.watch(model);
      return this.relay.subscribe(id, previews, send);
    });
  }

  health(): Promise<HealthResponse> {
    return this.guard(async () => {
      const t = await this.room.totals();
      const models = (await this.directory.models(this.o.defaultModel)).map((m) => m.id);
      return { status: this.draining ? 'draining' : 'ok', version: this.o.version, models, queue: { queued: t.queued, running: t.active } };
    });
  }

  models(): Promise<ModelInfo[]> {
    return this.guard(() => this.directory.models(this.o.defaultModel));
  }

  renderMetrics(): Promise<string> {
    return this.guard(() => this.metrics.render());
  }

  get metricsContentType(): string {
    return this.metrics.contentType;
  }

  /** The status of a job, or null when no queue holds it and it was not cancelled before it started. */
  private async lookup(id: string): Promise<JobStatus | null> {
    const found = await this.queues.find(id);
    if (found) {
      const { view } = found;
      const waiting = !['active', 'completed', 'failed'].includes(view.state);
      const position = waiting ? await this.queues.position(view.data.modelId, id) : 0;
      const s = statusOf(view, position, null, this.o.settings.maxAttempts);
      if (FINAL_STATES.has(s.state)) await this.o.redis.srem(clusterKeys.owner(this.o.settings.prefix, s.owner), id);
      return s;
    }
    const final = await this.o.redis.get(clusterKeys.final(this.o.settings.prefix, id));
    return final ? asStatus(final) : null;
  }

  /** The answer to a repeated idempotency key, or null when the key is new. */
  private async existing(id: string): Promise<SubmitResponse | null> {
    const s = await this.lookup(id);
    if (s) return { id, state: s.state, position: s.position, duplicate: true };
    // Claimed by another node that is still queueing it.
    if (await this.queues.modelOf(id)) return { id, state: 'queued', position: 0, duplicate: true };
    return null;
  }

  /** Cluster and Redis failures said as API errors (a Redis that cannot be reached is BUSY with Retry-After). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isClusterError(e)) throw new ApiFailure(toClusterApiError(e));
      if (isRedisDown(e)) throw new ApiFailure(toClusterApiError(new ClusterError('REDIS_UNAVAILABLE', 'Redis cannot be reached', {}, { cause: e })));
      throw e;
    }
  }
}

/** ioredis' errors for a connection that is down or gave up retrying a command. */
function isRedisDown(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return e.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|enableOfflineQueue/i.test(e.message);
}
