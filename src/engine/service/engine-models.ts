/**
 * The models an engine process runs, opened once: the execution provider, the inference worker, every
 * configured model package and the face detector when a face model needs it. Shared by the engine server
 * (one host) and the scale-out worker (docs/scaling.md), which run the same models the same way.
 */
import type { AppConfig } from '../../config/load-config.js';
import type { Logger } from '../../log/logger.js';
import { EngineError } from '../errors.js';
import { LoadedModel } from '../loaded-model.js';
import { listModelPackages, resolveModelPackage } from '../model/model-registry.js';
import type { ProviderChoice } from '../onnx/execution-provider.js';
import { FaceDetectorSession } from '../onnx/face-detector-session.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import type { InferenceBackend } from '../onnx/inference-protocol.js';
import { openInference } from '../onnx/open-inference.js';
import { chooseProviderHere } from '../onnx/provider-report.js';

export interface EngineModels {
  readonly provider: ProviderChoice;
  readonly inference: InferenceBackend;
  /**
   * A second inference worker for the request path's small graphs (the face detector, the domain
   * check's attribute reader): in the UNet's worker they would wait for the UNet call in flight (seconds
   * on a real checkpoint) before a submit could be answered. Started at its first use.
   */
  readonly checks: InferenceBackend;
  readonly models: ReadonlyMap<string, LoadedModel>;
  readonly defaultModel: string;
  readonly faceDetector?: FaceDetectorModel;
  /** Releases the models and the inference worker. */
  close(): Promise<void>;
}

export async function openEngineModels(config: AppConfig, log: Logger): Promise<EngineModels> {
  const e = config.engine;
  const provider = chooseProviderHere(config.executionProvider);
  log.info(`execution provider ${provider.provider} (${provider.reason})`);

  const packages = e.models
    ? e.models.map((id) => resolveModelPackage(config.modelsDir, id, null))
    : listModelPackages(config.modelsDir, (dir, err) => log.warn(`skipping ${dir}: ${err.message}`));
  if (!packages.length) throw new EngineError('MODEL_NOT_FOUND', `no models to load from ${config.modelsDir}`);
  const models = new Map<string, LoadedModel>();
  const inference = await openInference({ mode: e.inference, intraOpThreads: e.intraOpThreads, nice: e.inferenceNice }, (line) => log.warn(line));
  log.info(`inference ${e.inference === 'worker' ? `in a worker thread (nice ${e.inferenceNice})` : 'on the main thread'}, intraOpThreads ${e.intraOpThreads || 'onnxruntime default'}`);
  // At the engine's own priority: what runs here is a request's work, which a client waits for.
  const checks = await openInference({ mode: e.inference, intraOpThreads: 1 }, (line) => log.warn(line));
  const close = async () => {
    for (const m of models.values()) await m.close();
    await inference.close();
    await checks.close();
  };
  try {
    for (const pkg of packages) {
      try {
        const loaded = await LoadedModel.open(pkg, { provider: provider.provider, inference });
        if (loaded.unet.fallback) log.warn(loaded.unet.fallback, { model: pkg.manifest.id });
        // Before the server listens: a broken direction file is named at start, not at a user's first edit.
        for (const f of loaded.preloadDirections()) log.warn(`direction ${f.name} does not load and will be refused: ${f.error.message}`, { model: pkg.manifest.id });
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
    // Face models find faces with BlazeFace, in the checks worker (a submit waits for it).
    const faceDetector = [...models.values()].some((m) => m.manifest.preprocess === 'align-face') ? await FaceDetectorSession.load(undefined, checks) : undefined;
    return { provider, inference, checks, models, defaultModel, ...(faceDetector ? { faceDetector } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}
