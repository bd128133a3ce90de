/**
 * What a worker does with one BullMQ job (contract.ts): fetch the input blob, run the edit on the local
 * engine (continuous batching as on a single host), relay its progress (throttled, previews as a blob),
 * put the results in the shared store under this attempt and commit them, and return the final
 * JobStatus. A failure for a user reason (no face, a bad image) completes the job with state failed and is
 * never retried; only a worker that dies (its lock expires) makes BullMQ run the job again elsewhere.
 */
import type { Job } from 'bullmq';
import type { ApiError, JobEvent, JobStatus, ResultVariant, SubmitRequest, SubmitResponse } from '../client/api-types.js';
import { toApiError } from '../service/service-error.js';
import type { Logger } from '../../log/logger.js';
import type { BlobStore } from './blob-store.js';
import type { CancelWatch } from './cancel-watch.js';
import { ClusterError, isClusterError, toClusterApiError } from './cluster-error.js';
import { CLUSTER_DATA_VERSION, clusterKeys, type ClusterFinal, type ClusterJobData, type ClusterProgress } from './contract.js';
import type { FairRounds } from './fair-rounds.js';
import { ProgressThrottle } from './progress-throttle.js';
import type { ResultCommitter } from './result-commit.js';

/** What the processor needs of the worker's local engine (EngineService has all of it). */
export interface LocalEngine {
  submit(req: SubmitRequest): Promise<SubmitResponse>;
  status(id: string): JobStatus;
  cancel(id: string): JobStatus | Promise<JobStatus>;
  result(id: string, variant: ResultVariant): { bytes: Buffer; contentType: string };
  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): () => void;
  /** Drops a finished job's memory and files once its results are in the shared store. */
  forget(id: string): void;
}

export interface ProcessorDeps {
  readonly engine: LocalEngine;
  readonly blobs: BlobStore;
  readonly rounds: FairRounds;
  readonly committer: ResultCommitter;
  readonly cancels: CancelWatch;
  /** Resolves once the shared inversion-cache writes started so far are done. */
  readonly flushCache: () => Promise<void>;
  readonly prefix: string;
  readonly progressMinIntervalMs: number;
  readonly log: Logger;
  /** Called with the local job id once the local engine has ended with it (the memory store drops its row). */
  readonly forgotten?: (localId: string) => void;
}

/** How often the processor reads the local status besides listening to it (a missed event costs this much). */
const STATUS_POLL_MS = 1000;

const FINAL_STATES = new Set(['done', 'failed', 'cancelled']);

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

function checkData(data: unknown): ClusterJobData {
  const d = data as Partial<ClusterJobData> | null;
  if (!d || d.v !== CLUSTER_DATA_VERSION || typeof d.inputKey !== 'string' || typeof d.modelId !== 'string' || typeof d.owner !== 'string' || typeof d.recipe !== 'string') {
    throw new ClusterError('BAD_JOB_DATA', `job data of version ${String(d?.v)} is not what this worker reads (version ${CLUSTER_DATA_VERSION})`);
  }
  return d as ClusterJobData;
}

/** A final status for a job that ended before (or without) a local run. */
function endedEarly(jobId: string, data: ClusterJobData, state: 'failed' | 'cancelled', error: ApiError | null): ClusterFinal {
  return {
    id: jobId,
    kind: data.kind,
    state,
    phase: 'finished',
    position: 0,
    step: 0,
    total: 0,
    etaMs: 0,
    cacheHit: false,
    model: data.modelId,
    recipe: data.recipe,
    owner: data.owner,
    createdAt: new Date(data.submittedAt).toISOString(),
    startedAt: null,
    finishedAt: new Date().toISOString(),
    error,
    results: [],
    labels: data.labels ?? {},
  };
}

function asApiError(e: unknown): ApiError {
  return isClusterError(e) ? toClusterApiError(e) : toApiError(e);
}

export function createProcessor(deps: ProcessorDeps): (job: Job, token?: string) => Promise<ClusterFinal> {
  return async (job, token) => {
    const jobId = job.id!;
    const log = deps.log.child({ job: jobId });
    let data: ClusterJobData;
    try {
      data = checkData(job.data);
    } catch (e) {
      log.error('unreadable job data', { err: e });
      const unknown: ClusterJobData = { v: CLUSTER_DATA_VERSION, kind: 'edit', recipe: '', owner: '', modelId: '', inputKey: '', submittedAt: job.timestamp, round: 0 };
      return endedEarly(jobId, unknown, 'failed', asApiError(e));
    }
    // Newcomers now join the round being served (fair-rounds.ts); a failure only skews fairness a little.
    await deps.rounds.started(data.modelId, data.round).catch((e: unknown) => log.warn('fairness round not advanced', { err: e }));
    const cancel = deps.cancels.watch(jobId);
    let localId: string | null = null;
    try {
      if (await cancel.requested()) return endedEarly(jobId, data, 'cancelled', null);
      const input = await deps.blobs.get(data.inputKey);
      if (!input) return endedEarly(jobId, data, 'failed', toClusterApiError(new ClusterError('BLOB_MISSING', 'the input image is no longer in the shared store (expired, or Redis restarted)')));
      let local: SubmitResponse;
      try {
        local = await deps.engine.submit(localRequest(data, input));
      } catch (e) {
        // The API validated the request; what fails here is the image itself (no face, corrupt): final.
        return endedEarly(jobId, data, 'failed', asApiError(e));
      }
      localId = local.id;
      const id = localId;
      cancel.onCancel(() => void Promise.resolve(deps.engine.cancel(id)).catch(() => undefined));
      log.info('running', { attempt: job.attemptsStarted, local: id });
      const final = await followLocal(deps, job, id, data);
      await deps.flushCache();
      if (final.state !== 'done') return final;
      return await deliver(deps, job, token!, id, data, final);
    } finally {
      cancel.release();
      if (localId) {
        deps.engine.forget(localId);
        deps.forgotten?.(localId);
      }
    }
  };
}

function localRequest(data: ClusterJobData, input: Buffer): SubmitRequest {
  return {
    imageBase64: input.toString('base64'),
    recipe: data.recipe,
    model: data.modelId,
    owner: data.owner,
    kind: data.kind,
    ...(data.strengths ? { strengths: data.strengths } : {}),
    ...(data.size !== undefined ? { size: data.size } : {}),
    ...(data.faceIndex !== undefined ? { faceIndex: data.faceIndex } : {}),
    ...(data.labels ? { labels: data.labels } : {}),
  };
}

/** The status as the cluster reports it: the cluster job's id and the API's submit time. */
function asCluster(s: JobStatus, jobId: string, data: ClusterJobData): JobStatus {
  return { ...s, id: jobId, createdAt: new Date(data.submittedAt).toISOString() };
}

/** Listens to the local job until it ends, relaying progress; resolves with its final status. */
function followLocal(deps: ProcessorDeps, job: Job, localId: string, data: ClusterJobData): Promise<JobStatus> {
  const jobId = job.id!;
  const throttle = new ProgressThrottle(deps.progressMinIntervalMs);
  let previews = 0;
  // Progress writes are chained: a preview blob is in Redis before the update that announces it.
  let chain = Promise.resolve();
  const relay = (e: JobEvent) => {
    const status = asCluster(e.status, jobId, data);
    if (FINAL_STATES.has(status.state) || !throttle.admit(status)) return;
    const preview = e.previewBase64;
    chain = chain
      .then(async () => {
        let progress: ClusterProgress = status;
        if (preview) {
          await deps.blobs.put(clusterKeys.blob(deps.prefix, jobId, 'preview'), Buffer.from(preview, 'base64'));
          progress = { ...status, preview: ++previews };
        }
        await job.updateProgress(progress);
      })
      .catch((err: unknown) => deps.log.warn('progress not relayed', { job: jobId, err }));
  };
  return new Promise<JobStatus>((resolve) => {
    let ended = false;
    const end = (s: JobStatus) => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(poll);
      void chain.then(() => resolve(asCluster(s, jobId, data)));
    };
    const unsubscribe = deps.engine.subscribe(localId, true, (e) => {
      relay(e);
      if (FINAL_STATES.has(e.status.state)) end(e.status);
    });
    const poll = setInterval(() => {
      const s = deps.engine.status(localId);
      if (FINAL_STATES.has(s.state)) end(s);
    }, STATUS_POLL_MS);
    // A worker that stopped waiting for this job (close past drainMs) must still be able to exit.
    poll.unref();
    // The job may have ended between the submit and the subscription.
    const now = deps.engine.status(localId);
    if (FINAL_STATES.has(now.state)) end(now);
  });
}

/** Uploads the results under this attempt and commits them; a late attempt that lost its lock throws. */
async function deliver(deps: ProcessorDeps, job: Job, token: string, localId: string, data: ClusterJobData, final: JobStatus): Promise<ClusterFinal> {
  const jobId = job.id!;
  try {
    for (const v of final.results) await deps.blobs.put(deps.committer.attemptKey(jobId, token, v), deps.engine.result(localId, v).bytes);
  } catch (e) {
    // A result over the blob cap, or Redis refusing the write: the job fails with that reason.
    deps.log.warn('results not stored', { job: jobId, err: e });
    await deps.blobs.delete(...final.results.map((v) => deps.committer.attemptKey(jobId, token, v))).catch(() => undefined);
    return { ...endedEarly(jobId, data, 'failed', asApiError(e)), startedAt: final.startedAt, step: final.step, total: final.total };
  }
  if (!(await deps.committer.commit(data.modelId, jobId, token, final.results))) {
    // BullMQ gave the job to another worker while this one was silent: that attempt's result counts.
    deps.log.warn('this attempt lost its lock (the job went to another worker); its results were discarded', { job: jobId });
    throw new LockLostError(`job ${jobId}: this attempt lost its lock; its results were discarded`);
  }
  return final;
}
