/**
 * Composition root of the worker role (`asyrp engine --role worker`, docs/scaling.md): the configured
 * models in a local EngineService, fed by BullMQ from Redis, with a small HTTP port for health and
 * metrics. The local engine keeps its jobs in memory (the job's durable home is Redis) and its files in
 * <dataDir>/worker, which it empties of job folders at start (a killed worker's leftovers).
 */
import { join } from 'node:path';
import type { AppConfig } from '../../config/load-config.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { openEngineModels } from '../service/engine-models.js';
import { EngineService } from '../service/engine-service.js';
import { ClusterWorker, ClusterWorkerRedis } from './cluster-worker.js';
import { memoryJobStore } from './memory-job-store.js';
import { startWorkerHttp, type WorkerHttp } from './worker-http.js';

export interface ClusterWorkerProcess {
  readonly worker: ClusterWorker;
  readonly service: EngineService;
  /** The health and metrics port (engine.host:engine.port); null when an API node runs beside it (role both). */
  readonly http: WorkerHttp | null;
  /** The local engine's folder (<dataDir>/worker): job files while they run, the local inversion cache. */
  readonly dataDir: string;
  /** SIGTERM: stop taking jobs, let the running ones finish (up to engine.drainMs), then close everything. */
  close(): Promise<void>;
}

export interface StartClusterWorkerOptions {
  readonly redisUrl: string;
  readonly log?: Logger;
  readonly version?: string;
  readonly token?: string | null;
  readonly workerId?: string;
  /** Its own health and metrics port; false when an API node in this process has engine.port (role both). */
  readonly withHttp?: boolean;
}

export async function startClusterWorker(config: AppConfig, opts: StartClusterWorkerOptions): Promise<ClusterWorkerProcess> {
  const log = opts.log ?? silentLogger;
  const e = config.engine;
  const loaded = await openEngineModels(config, log);
  const shared = new ClusterWorkerRedis(opts.redisUrl, e.cluster, log);
  const store = memoryJobStore();
  const dataDir = join(config.dataDir, 'worker');
  const service = new EngineService({
    models: loaded.models,
    defaultModel: loaded.defaultModel,
    store,
    dataDir,
    limits: config.limits,
    maxBatch: e.maxBatch,
    // Queue limits and per-owner shares are the API's (in Redis); here every job BullMQ hands over runs.
    maxQueued: Number.MAX_SAFE_INTEGER,
    maxQueuedPerOwner: Number.MAX_SAFE_INTEGER,
    maxRunningPerOwner: Number.MAX_SAFE_INTEGER,
    jobTimeoutMs: e.jobTimeoutMs,
    cacheMaxBytes: e.cacheMaxBytes,
    previewEvery: e.previewEvery,
    finishedJobTtlMs: e.finishedJobTtlMs,
    version: opts.version ?? '0.1.0',
    log,
    sharedCache: shared.cache,
    ...(loaded.faceDetector ? { faceDetector: loaded.faceDetector } : {}),
    checkInference: loaded.checks,
  });
  service.start();
  const worker = new ClusterWorker(shared, service, {
    settings: e.cluster,
    models: service.models(),
    maxBatch: e.maxBatch,
    log,
    forgotten: (id) => store.drop(id),
    ...(opts.workerId ? { workerId: opts.workerId } : {}),
  });
  let http: WorkerHttp | null = null;
  try {
    await worker.start();
    if (opts.withHttp !== false) http = await startWorkerHttp({ host: e.host, port: e.port, token: opts.token ?? null, worker, service, log });
  } catch (err) {
    await worker.close().catch(() => undefined);
    await service.stop();
    await loaded.close();
    throw err;
  }
  const server = http;
  let closing: Promise<void> | null = null;
  return {
    worker,
    service,
    http: server,
    dataDir,
    close: () =>
      (closing ??= (async () => {
        // BullMQ first: no new job, and the running ones finish (their results go to Redis) within drainMs.
        const drained = await worker.close(e.drainMs);
        if (drained) await service.drain(0);
        else await service.stop();
        await server?.close();
        await loaded.close();
      })()),
  };
}
