/**
 * Composition root of the engine process: open storage, load the configured models once, start the
 * service (recovering persisted jobs) and the HTTP API. Used by `asyrp engine`, `asyrp start` and tests.
 */
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../../config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { openStorage, type Storage } from '../../storage/index.js';
import type { LoadedModel } from '../loaded-model.js';
import type { ProviderChoice } from '../onnx/execution-provider.js';
import type { InferenceBackend } from '../onnx/inference-protocol.js';
import { openEngineModels } from './engine-models.js';
import { EngineService, type StartReport } from './engine-service.js';
import { createEngineHttpServer } from './http-server.js';
import { allowedHostNames } from './request-guards.js';
import { jobStoreFromRepo } from './job-store.js';

export interface EngineServer {
  readonly url: string;
  readonly port: number;
  readonly service: EngineService;
  readonly provider: ProviderChoice;
  /** Where the models' graphs run (the inference worker unless engine.inference is 'inline'). */
  readonly inference: InferenceBackend;
  readonly models: ReadonlyMap<string, LoadedModel>;
  readonly recovered: number;
  /** What start-up found and cleaned (also logged). */
  readonly started: StartReport;
  /** SIGTERM behaviour: stop intake, let running jobs finish for up to drainMs, close. */
  drain(ms?: number): Promise<void>;
  /** Immediate stop (running jobs stay persisted as running and are resumed at the next start). */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startEngineServer(config: AppConfig, opts: { version?: string; log?: Logger; storage?: Storage; token?: string | null } = {}): Promise<EngineServer> {
  const e = config.engine;
  const token = opts.token ?? null;
  if (!LOOPBACK.has(e.host) && !token) {
    throw new ConfigError('SECRET_REQUIRED', 'engine.host', `the engine listens on ${e.host}, which is not loopback: set ASYRP_ENGINE_TOKEN so that requests need a bearer token`);
  }
  const log = opts.log ?? silentLogger;
  const { provider, inference, checks, models, defaultModel, faceDetector, close: closeModels } = await openEngineModels(config, log);
  let storage: Storage;
  try {
    storage = opts.storage ?? openStorage({ path: config.storage.path, busyTimeoutMs: config.storage.busyTimeoutMs });
  } catch (err) {
    await closeModels();
    throw err;
  }
  try {
    const service = new EngineService({
      models,
      defaultModel,
      store: jobStoreFromRepo(storage.jobs),
      dataDir: config.dataDir,
      limits: config.limits,
      maxBatch: e.maxBatch,
      maxQueued: e.maxQueued,
      maxQueuedPerOwner: e.maxQueuedPerOwner,
      maxRunningPerOwner: e.maxRunningPerOwner,
      jobTimeoutMs: e.jobTimeoutMs,
      cacheMaxBytes: e.cacheMaxBytes,
      previewEvery: e.previewEvery,
      finishedJobTtlMs: e.finishedJobTtlMs,
      version: opts.version ?? '0.1.0',
      log,
      ...(faceDetector ? { faceDetector } : {}),
      checkInference: checks,
    });
    const started = service.start();
    const { recovered } = started;
    if (started.removedFolders || started.removedTempFiles) {
      log.info(`removed what interrupted submits left: ${started.removedFolders} job input(s) or folder(s) without a database row, ${started.removedTempFiles} temp file(s)`, {
        removedFolders: started.removedFolders,
        removedTempFiles: started.removedTempFiles,
      });
    }
    if (started.reconciled) log.info(`recorded ${started.reconciled} final state(s) found in final.json but not in the database`);
    if (recovered) log.info(`resumed ${recovered} unfinished job(s)`);
    // base64 inflates by 4/3; leave room for the JSON around it.
    const http = createEngineHttpServer(service, {
      token,
      maxBodyBytes: Math.ceil((config.limits.maxInputBytes * 4) / 3) + 65_536,
      allowedHosts: allowedHostNames(e.host, e.allowedHosts),
      log,
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(e.port, e.host, () => resolve());
    });
    const port = (http.address() as AddressInfo).port;
    const host = e.host.includes(':') ? `[${e.host}]` : e.host;
    const url = `http://${host}:${port}`;
    log.info(`listening on ${url} with ${[...models.keys()].join(', ')} (default ${defaultModel})`);
    let closed = false;
    const shutdown = async (drainMs: number | null) => {
      if (closed) return;
      closed = true;
      if (drainMs !== null) await service.drain(drainMs);
      else await service.stop();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await closeModels();
      if (!opts.storage) storage.close();
    };
    return { url, port, service, provider, inference, models, recovered, started, drain: (ms = e.drainMs) => shutdown(ms), close: () => shutdown(null) };
  } catch (err) {
    await closeModels();
    if (!opts.storage) storage.close();
    throw err;
  }
}
