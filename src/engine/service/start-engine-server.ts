/**
 * Composition root of the engine process: open storage, load the configured models once, start the
 * service (recovering persisted jobs) and the HTTP API. Used by `asyrp engine`, `asyrp start` and tests.
 */
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../../config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { openStorage, type Storage } from '../../storage/index.js';
import { EngineError } from '../errors.js';
import { LoadedModel } from '../loaded-model.js';
import { listModelPackages, resolveModelPackage } from '../model/model-registry.js';
import type { ProviderChoice } from '../onnx/execution-provider.js';
import { FaceDetectorSession } from '../onnx/face-detector-session.js';
import type { InferenceBackend } from '../onnx/inference-protocol.js';
import { openInference } from '../onnx/open-inference.js';
import { chooseProviderHere } from '../onnx/provider-report.js';
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
  const provider = chooseProviderHere(config.executionProvider);
  log.info(`execution provider ${provider.provider} (${provider.reason})`);

  const packages = e.models
    ? e.models.map((id) => resolveModelPackage(config.modelsDir, id, null))
    : listModelPackages(config.modelsDir, (dir, err) => log.warn(`skipping ${dir}: ${err.message}`));
  if (!packages.length) throw new EngineError('MODEL_NOT_FOUND', `no models to load from ${config.modelsDir}`);
  const models = new Map<string, LoadedModel>();
  const inference = await openInference({ mode: e.inference, intraOpThreads: e.intraOpThreads }, (line) => log.warn(line));
  log.info(`inference ${e.inference === 'worker' ? 'in a worker thread' : 'on the main thread'}, intraOpThreads ${e.intraOpThreads || 'onnxruntime default'}`);
  const storage = opts.storage ?? openStorage({ path: config.storage.path, busyTimeoutMs: config.storage.busyTimeoutMs });
  try {
    for (const pkg of packages) {
      try {
        const loaded = await LoadedModel.open(pkg, { provider: provider.provider, inference });
        if (loaded.unet.fallback) log.warn(loaded.unet.fallback, { model: pkg.manifest.id });
        models.set(pkg.manifest.id, loaded);
      } catch (err) {
        // A model named in the config must load; one merely found on disk is skipped with a reason.
        if (e.models || !(err instanceof EngineError)) throw err;
        log.warn(`skipping model ${pkg.manifest.id}: ${err.message}`);
      }
    }
    if (!models.size) throw new EngineError('MODEL_NOT_FOUND', `no model in ${config.modelsDir} could be loaded`);
    const defaultModel = config.defaultModel && models.has(config.defaultModel) ? config.defaultModel : [...models.keys()][0]!;
    if (config.defaultModel && !models.has(config.defaultModel)) log.warn(`default model "${config.defaultModel}" is not loaded; using ${defaultModel}`);
    // Face models find faces with BlazeFace, which runs next to the UNet in the inference worker.
    const faceDetector = [...models.values()].some((m) => m.manifest.preprocess === 'align-face') ? await FaceDetectorSession.load(undefined, inference) : undefined;

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
    });
    const started = service.start();
    const { recovered } = started;
    if (started.removedFolders || started.removedTempFiles) {
      log.info(`removed what interrupted submits left: ${started.removedFolders} job folder(s) without a database row, ${started.removedTempFiles} temp file(s)`, {
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
      for (const m of models.values()) await m.close();
      await inference.close();
      if (!opts.storage) storage.close();
    };
    return { url, port, service, provider, inference, models, recovered, started, drain: (ms = e.drainMs) => shutdown(ms), close: () => shutdown(null) };
  } catch (err) {
    for (const m of models.values()) await m.close();
    await inference.close();
    if (!opts.storage) storage.close();
    throw err;
  }
}
