/**
 * The worker role: a local EngineService with the models this host loaded, fed by one BullMQ Worker per
 * model (a host only opens the queues of models it can run). Each BullMQ Worker holds jobs up to the
 * model's free batch slots (batch-slots.ts: samples, a sweep counting one per strength), so the local
 * engine keeps batching them into one UNet call per tick, as a single engine does. Stalled-job detection (lockDurationMs, maxAttempts) retries the jobs of a worker
 * that died; close() stops taking jobs and lets the running ones finish for up to drainMs (SIGTERM).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ModelInfo } from '../client/api-types.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { RedisBlobStore } from './blob-store.js';
import { CancelWatch } from './cancel-watch.js';
import { queueName, type ClusterFinal, type ClusterJobData, type ClusterSettings } from './contract.js';
import { BatchSlots } from './batch-slots.js';
import { FairRounds } from './fair-rounds.js';
import { createProcessor, type LocalEngine } from './job-processor.js';
import { openRedis, redisOptions } from './redis-connection.js';
import { ResultCommitter } from './result-commit.js';
import { BlobInversionCache } from './shared-inversion-cache.js';
import { WorkerPresence } from './worker-presence.js';

export interface ClusterWorkerOptions {
  readonly settings: ClusterSettings;
  /** The models this host runs (what it registers and the queues it opens). */
  readonly models: readonly ModelInfo[];
  /** Jobs taken at once per model: the local engine's batch size. */
  readonly maxBatch: number;
  readonly log?: Logger;
  /** Default: host name, pid and a random suffix. */
  readonly workerId?: string;
}

/**
 * The shared inversion cache must exist before the local engine is built (it is one of its options),
 * and the engine before the worker: so the worker's Redis side is opened in two steps.
 */
export class ClusterWorkerRedis {
  readonly redis: Redis;
  readonly blobs: RedisBlobStore;
  readonly cache: BlobInversionCache;

  constructor(
    readonly redisUrl: string,
    readonly settings: ClusterSettings,
    readonly log: Logger = silentLogger,
  ) {
    this.redis = openRedis(redisUrl, 'asyrp-worker');
    // ioredis reconnects by itself; without a listener it would print each error to the console, unredacted.
    this.redis.on('error', (e: Error) => log.warn('redis connection error (it reconnects)', { err: e.message }));
    this.blobs = new RedisBlobStore(this.redis, { maxBytes: settings.maxBlobBytes, ttlSeconds: settings.blobTtlSeconds });
    this.cache = new BlobInversionCache(this.blobs, settings.prefix, log);
  }
}

export class ClusterWorker {
  readonly workerId: string;
  private readonly workers: Worker[] = [];
  private readonly subscriber: Redis;
  private readonly presence: WorkerPresence;
  private readonly cancels: CancelWatch;
  /** Batch slots per model (samples held); their sum is what the registration reports as busy. */
  private readonly slots: BatchSlots[] = [];
  /** Processors running now: close() waits for these (BullMQ's own close cannot be cut short once begun). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<boolean> | null = null;
  private readonly log: Logger;

  constructor(
    private readonly shared: ClusterWorkerRedis,
    private readonly engine: LocalEngine,
    private readonly opts: ClusterWorkerOptions & { forgotten?: (localId: string) => void },
  ) {
    this.log = opts.log ?? silentLogger;
    this.workerId = opts.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const { settings } = opts;
    this.subscriber = openRedis(shared.redisUrl, 'asyrp-worker-cancel');
    this.subscriber.on('error', (e: Error) => this.log.warn('redis connection error (it reconnects)', { err: e.message }));
    this.cancels = new CancelWatch(shared.redis, this.subscriber, settings.prefix, this.log);
    const slots = opts.maxBatch * opts.models.length;
    this.presence = new WorkerPresence(shared.redis, settings.prefix, settings.heartbeatMs, { workerId: this.workerId, host: hostname(), pid: process.pid, models: opts.models, slots }, () => this.busy, this.log);
  }

  /** Registers, listens for cancels, and starts taking jobs. */
  async start(): Promise<void> {
    const { settings } = this.opts;
    await this.cancels.start();
    const processor = createProcessor({
      engine: this.engine,
      blobs: this.shared.blobs,
      rounds: new FairRounds(this.shared.redis, settings.prefix),
      committer: new ResultCommitter(this.shared.redis, settings.prefix),
      cancels: this.cancels,
      flushCache: () => this.shared.cache.flush(),
      prefix: settings.prefix,
      progressMinIntervalMs: settings.progressMinIntervalMs,
      log: this.log,
      ...(this.opts.forgotten ? { forgotten: this.opts.forgotten } : {}),
    });
    for (const model of this.opts.models) {
      const slots = new BatchSlots(this.opts.maxBatch);
      this.slots.push(slots);
      // Each job held counts its samples against the model's batch; the Worker takes more only while slots are free.
      const counted = async (...args: Parameters<typeof processor>): Promise<ClusterFinal> => {
        const width = BatchSlots.width(args[0].data as ClusterJobData);
        slots.take(width);
        worker.concurrency = slots.concurrency;
        const run = processor(...args);
        this.inFlight.add(run);
        try {
          return await run;
        } finally {
          this.inFlight.delete(run);
          slots.release(width);
          worker.concurrency = slots.concurrency;
        }
      };
      const worker: Worker = new Worker(queueName(model.id), counted, {
        connection: redisOptions(this.shared.redisUrl, `asyrp-worker-${model.id}`),
        prefix: settings.prefix,
        concurrency: this.opts.maxBatch,
        // A worker silent for lockDurationMs is taken as dead; its jobs go back to the queue up to
        // maxAttempts starts in all, after which BullMQ fails them (the API reports INTERRUPTED).
        lockDuration: settings.lockDurationMs,
        stalledInterval: settings.lockDurationMs,
        maxStalledCount: settings.maxAttempts - 1,
        // The finished job (its final status) lives as long as its result blobs.
        removeOnComplete: { age: settings.blobTtlSeconds },
        removeOnFail: { age: settings.blobTtlSeconds },
      });
      worker.on('error', (e) => this.log.warn('queue connection error (BullMQ retries)', { model: model.id, err: e }));
      worker.on('failed', (job, e) => this.log.warn('job attempt failed', { job: job?.id, model: model.id, reason: e.message }));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.presence.start();
    this.log.info(`worker ${this.workerId} takes jobs for ${this.opts.models.map((m) => m.id).join(', ')} (up to ${this.opts.maxBatch} at once per model)`);
  }

  /** Batch slots (samples) taken now, over all models. */
  get busy(): number {
    return this.slots.reduce((n, s) => n + s.busy, 0);
  }

  /**
   * Stops taking jobs, waits up to `drainMs` for the running ones to finish, unregisters and
   * disconnects. Resolves true when they all finished; false when it stopped waiting: those jobs' locks
   * then lapse and another worker runs them again (as after a crash, within maxAttempts).
   */
  close(drainMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.closing ??= (async () => {
      // Take no new job, then wait for the running ones; BullMQ's close(force) cannot follow a close() in
      // progress, so the choice between a graceful and a forced close is made after the wait.
      await Promise.all(this.workers.map((w) => w.pause(true)));
      const finished = Promise.allSettled([...this.inFlight]).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const drained = Number.isFinite(drainMs) ? await Promise.race([finished, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), drainMs)))]) : await finished;
      clearTimeout(timer);
      // Forced: the locks of jobs still running stop being renewed, so they lapse and another worker runs them.
      await Promise.all(this.workers.map((w) => w.close(!drained)));
      if (!drained) this.log.warn(`stopped waiting for running jobs after ${drainMs} ms; other workers will run them again`);
      await this.presence.stop().catch(() => undefined);
      await this.subscriber.quit().catch(() => undefined);
      if (drained) await this.shared.redis.quit().catch(() => undefined);
      // Not waiting for a job still running: its connection goes at once, so no late write lands.
      else this.shared.redis.disconnect();
      return drained;
    })();
    return this.closing;
  }
}
