/** The engine service's options and its start-up report. */
import type { LoadedModel } from '../loaded-model.js';
import type { Logger } from '../../log/logger.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import type { InferenceBackend } from '../onnx/inference-protocol.js';
import type { JobStore } from './job-store.js';

/**
 * A second tier behind the local inversion cache that other hosts share (the cluster worker's Redis
 * blobs): consulted on a local miss, written when an inversion finishes. Keys are the local cache's.
 * Never throws: a shared cache that fails only costs time.
 */
export interface SharedInversionCache {
  get(modelId: string, key: string, length: number): Promise<Float32Array | null>;
  put(modelId: string, key: string, xT: Float32Array): void;
}

export interface EngineServiceOptions {
  readonly models: ReadonlyMap<string, LoadedModel>;
  readonly defaultModel: string;
  readonly store: JobStore;
  /** Folder for job inputs and results (data/jobs) and the inversion cache (data/cache). */
  readonly dataDir: string;
  readonly limits: { readonly maxInputBytes: number; readonly maxInputPixels: number };
  /** Samples per UNet call. */
  readonly maxBatch: number;
  readonly maxQueued: number;
  readonly maxQueuedPerOwner: number;
  readonly maxRunningPerOwner: number;
  readonly jobTimeoutMs: number;
  readonly cacheMaxBytes: number;
  /** A preview PNG every this many steps when a client asks for previews. */
  readonly previewEvery: number;
  /** A finished job leaves memory this long after its final state is recorded (its files stay on disk). */
  readonly finishedJobTtlMs: number;
  readonly version: string;
  /** Job lines carry the job's id (a child logger per job); also worker errors, recording retries, start-up clean-up. */
  readonly log?: Logger;
  /** Face models: the detector (in the inference worker); the process-wide inline one when absent. */
  readonly faceDetector?: FaceDetectorModel;
  /** Where a submit's domain check runs its reader (engine-models.ts `checks`); the model's own backend when absent. */
  readonly checkInference?: InferenceBackend;
  /** Scale-out workers: the inversion cache every worker reaches, so a re-edit skips inversion on any host. */
  readonly sharedCache?: SharedInversionCache;
}

export interface StartReport {
  /** Unfinished jobs queued again. */
  readonly recovered: number;
  /** Jobs whose final.json was ahead of the database (a crash or a failed write between the two). */
  readonly reconciled: number;
  /** What interrupted submits and writes left behind, removed. */
  readonly removedFolders: number;
  readonly removedTempFiles: number;
}
