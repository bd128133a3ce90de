/**
 * The shared contract of the Redis scale-out (issue #33, docs/scaling.md): what API nodes and workers
 * agree on in Redis. The single source: the key layout, the job data, the progress and final payloads,
 * the worker registration and the cluster settings. Change it only with both sides (API and worker).
 *
 * Every key lives under `<prefix>:`. BullMQ's own keys use the same prefix (BullMQ's `prefix` option),
 * one queue per model, so a worker opens only the queues of the models it has loaded and never takes
 * work it cannot run.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JobKind, JobStatus, ModelInfo, ResultVariant, SubmitRequest } from '../client/api-types.js';

/** `local`: the in-process FairQueue (the default; nothing new to run). `redis`: BullMQ on Redis >= 7. */
export type QueueSetting = 'local' | 'redis';
/** What an `asyrp engine` process does with `redis`: the HTTP API only, the GPU work only, or both. */
export type EngineRole = 'api' | 'worker' | 'both';

/** engine.cluster in the config (src/config/defaults.ts holds the same defaults). */
export interface ClusterSettings {
  /** Namespace of every key, BullMQ's included: several deployments can share one Redis. */
  readonly prefix: string;
  /** Inputs, results, previews, inversion-cache entries and final records expire after this. */
  readonly blobTtlSeconds: number;
  /** A blob larger than this is refused (BLOB_TOO_LARGE): Redis holds everything in memory. */
  readonly maxBlobBytes: number;
  /** A worker that stops renewing its lock for this long is taken as dead and its job is retried. */
  readonly lockDurationMs: number;
  /** Starts of one job, the first included; past it the job ends failed with INTERRUPTED. */
  readonly maxAttempts: number;
  /** How often a worker refreshes its registration (which lives 3 × this). */
  readonly heartbeatMs: number;
  /** Progress updates of one job are at least this far apart, except on phase changes. */
  readonly progressMinIntervalMs: number;
}

export const CLUSTER_DEFAULTS: ClusterSettings = Object.freeze({
  prefix: 'asyrp',
  blobTtlSeconds: 86_400,
  maxBlobBytes: 16 * 1024 * 1024,
  lockDurationMs: 30_000,
  maxAttempts: 3,
  heartbeatMs: 5_000,
  progressMinIntervalMs: 250,
});

/** Version of ClusterJobData; a worker refuses data of another version instead of misreading it. */
export const CLUSTER_DATA_VERSION = 1;

/** BullMQ's highest priority number (lowest precedence); rounds are mapped into 1..this. */
export const MAX_PRIORITY = 2_097_151;

/** The BullMQ queue of one model. */
export function queueName(modelId: string): string {
  return `edit.${modelId}`;
}

/** What a blob holds for a job: its input, one result variant, or its latest preview PNG. */
export type BlobSlot = 'input' | 'preview' | ResultVariant;

export const RESULT_VARIANTS: readonly ResultVariant[] = ['after', 'before', 'compare', 'grid', 'animation'];

/** Every Redis key of the cluster besides BullMQ's own. */
export const clusterKeys = {
  blob: (prefix: string, jobId: string, slot: BlobSlot) => `${prefix}:blob:${jobId}:${slot}`,
  /**
   * A result written by one attempt (the token of its BullMQ lock), renamed to `blob` only while that
   * attempt still holds the lock: a stalled attempt that finishes late never overwrites anything.
   */
  attemptBlob: (prefix: string, jobId: string, token: string, variant: ResultVariant) => `${prefix}:blob:${jobId}:a:${token}:${variant}`,
  /**
   * x_T of DDIM inversion under the local cache's key (InversionCache.key: a hash of model, preprocessed
   * image hash, steps, refinement), so every worker derives the same key; the model id in front lets an
   * operator count or drop one model's entries.
   */
  inversion: (prefix: string, modelId: string, localKey: string) => `${prefix}:inv:${modelId}:${localKey}`,
  /** The final JobStatus of a job that never reached a worker (cancelled while waiting), JSON. */
  final: (prefix: string, jobId: string) => `${prefix}:final:${jobId}`,
  /** Set while an active job is to be cancelled; the id is also published on `cancelChannel`. */
  cancel: (prefix: string, jobId: string) => `${prefix}:cancel:${jobId}`,
  cancelChannel: (prefix: string) => `${prefix}:cancel`,
  /** Set of an owner's unfinished job ids (the per-owner cap). */
  owner: (prefix: string, owner: string) => `${prefix}:owner:${owner}`,
  /** Hash of a live worker (WorkerRegistration), expiring 3 heartbeats after its last one. */
  worker: (prefix: string, workerId: string) => `${prefix}:worker:${workerId}`,
  workerPattern: (prefix: string) => `${prefix}:worker:*`,
  /** Fairness state of one model queue (fair-rounds.ts): the queue's round, the base, each owner's round. */
  fair: (prefix: string, modelId: string) => `${prefix}:fair:${modelId}`,
  /** BullMQ's own keys of a queue, for the scripts that must look at them. */
  bull: (prefix: string, modelId: string, suffix: string) => `${prefix}:${queueName(modelId)}:${suffix}`,
};

/**
 * The job id for an idempotency key: derived from (owner, key) so that any API node finds the same job
 * (BullMQ refuses a second job with an id it holds). `k` keeps it apart from random ids; BullMQ forbids
 * `:` and all-digit ids, and this has neither.
 */
export function idempotentJobId(owner: string, key: string): string {
  return 'k' + createHash('sha256').update(`${owner}\0${key}`).digest('hex').slice(0, 24);
}

/** A job id without an idempotency key: the local engine's format. */
export function newJobId(): string {
  return randomUUID();
}

/** job.data of a cluster job: the request without its image (that is the `inputKey` blob). */
export interface ClusterJobData {
  readonly v: typeof CLUSTER_DATA_VERSION;
  readonly kind: JobKind;
  readonly recipe: string;
  readonly owner: string;
  readonly modelId: string;
  readonly inputKey: string;
  readonly strengths?: readonly number[];
  readonly size?: number;
  readonly faceIndex?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Epoch ms the API accepted it. */
  readonly submittedAt: number;
  /** The fairness round it was given (fair-rounds.ts). */
  readonly round: number;
}

/** The job data of a submit: everything but the image bytes and the idempotency key (that is the id). */
export function clusterJobData(req: Omit<SubmitRequest, 'imageBase64'>, at: { modelId: string; inputKey: string; submittedAt: number; round: number }): ClusterJobData {
  return {
    v: CLUSTER_DATA_VERSION,
    kind: req.kind ?? 'edit',
    recipe: req.recipe,
    owner: req.owner,
    modelId: at.modelId,
    inputKey: at.inputKey,
    ...(req.strengths ? { strengths: [...req.strengths] } : {}),
    ...(req.size !== undefined && req.size !== null ? { size: req.size } : {}),
    ...(req.faceIndex !== undefined ? { faceIndex: req.faceIndex } : {}),
    ...(req.labels ? { labels: { ...req.labels } } : {}),
    submittedAt: at.submittedAt,
    round: at.round,
  };
}

/**
 * What a worker passes to job.updateProgress: the API's JobStatus (with the cluster job's id), and
 * `preview`, a counter that grows each time a new preview PNG was written to the `preview` blob.
 */
export type ClusterProgress = JobStatus & { readonly preview?: number };

/**
 * The processor's return value: the final JobStatus (state done, failed or cancelled). A failure for a
 * user reason (no face, a bad image) completes the BullMQ job with state failed and is never retried;
 * only a dead worker causes a retry. Results are the `blob` keys of `results`.
 */
export type ClusterFinal = JobStatus;

/** The hash `worker(prefix, id)` of a live worker; each field is a string in Redis (models is JSON). */
export interface WorkerRegistration {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly models: readonly ModelInfo[];
  /** Batch slots over all its models, and how many are taken. */
  readonly slots: number;
  readonly busy: number;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly at: number;
}
