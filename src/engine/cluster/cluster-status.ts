/**
 * A BullMQ job read back as the API's JobStatus (docs/engine-api.md), so a client cannot tell an API
 * node from the single engine: queued jobs from job.data, running ones from the worker's last progress,
 * finished ones from the processor's return value (contract.ts, ClusterProgress and ClusterFinal).
 */
import type { ApiError, JobStatus } from '../client/api-types.js';
import { toClusterApiError, ClusterError, CLUSTER_ERROR_CODES, type ClusterErrorCode } from './cluster-error.js';
import type { ClusterJobData } from './contract.js';

/** What the API node reads of a BullMQ job (a subset of bullmq's Job, so tests can build one). */
export interface JobView {
  readonly id: string;
  readonly data: ClusterJobData;
  /** BullMQ's state: waiting, prioritized, delayed, active, completed, failed, ... */
  readonly state: string;
  readonly progress: unknown;
  readonly returnvalue: unknown;
  readonly failedReason: string | undefined;
  /** Epoch ms the current attempt started; absent before. */
  readonly processedOn: number | undefined;
  readonly finishedOn: number | undefined;
}

/** BullMQ's own reason for a job that stalled on every attempt (moveStalledJobsToWait.lua). */
const STALLED_REASON = 'job stalled more than allowable limit';

export const FINAL_STATES: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/** The status fields job.data determines; the rest as for a job that has not started. */
export function queuedStatus(id: string, d: ClusterJobData, position: number, etaMs: number | null): JobStatus {
  return {
    id,
    kind: d.kind,
    state: 'queued',
    phase: 'queued',
    position,
    step: 0,
    total: 0,
    etaMs,
    cacheHit: false,
    model: d.modelId,
    recipe: d.recipe,
    owner: d.owner,
    createdAt: new Date(d.submittedAt).toISOString(),
    startedAt: null,
    finishedAt: null,
    error: null,
    results: [],
    labels: d.labels ?? {},
  };
}

/** A worker's progress or final payload, if it is one (a JobStatus object), without the preview counter. */
export function asStatus(v: unknown): (JobStatus & { preview?: number }) | null {
  const parsed = typeof v === 'string' ? safeJson(v) : v;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const s = parsed as Partial<JobStatus>;
  return typeof s.state === 'string' && typeof s.id === 'string' ? (parsed as JobStatus & { preview?: number }) : null;
}

export function withoutPreview(s: JobStatus & { preview?: number }): JobStatus {
  const { preview: _preview, ...status } = s;
  return status;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The API error of a BullMQ job that failed (the processor threw, or every attempt stalled). A worker
 * throws a ClusterError as "CODE: message"; a stall past the cap is INTERRUPTED, as with the local engine.
 */
export function failureError(reason: string | undefined, maxAttempts: number): ApiError {
  if (reason === STALLED_REASON) {
    return { code: 'INTERRUPTED', message: `the worker running this edit stopped on each of its ${maxAttempts} starts; it is not tried again` };
  }
  const code = /^([A-Z_]+): /.exec(reason ?? '')?.[1];
  if (code && (CLUSTER_ERROR_CODES as readonly string[]).includes(code)) {
    return toClusterApiError(new ClusterError(code as ClusterErrorCode, reason!.slice(code.length + 2)));
  }
  return { code: 'INTERNAL', message: 'the edit failed in the worker; it has been logged there' };
}

/** The status of a job BullMQ holds; `position` and `etaMs` matter only while it waits. */
export function statusOf(job: JobView, position: number, etaMs: number | null, maxAttempts: number): JobStatus {
  const d = job.data;
  switch (job.state) {
    case 'completed': {
      const final = asStatus(job.returnvalue);
      if (final) return { ...withoutPreview(final), id: job.id, position: 0, etaMs: 0 };
      return failed(job, { code: 'INTERNAL', message: 'the worker finished this edit without a status' });
    }
    case 'failed':
      return failed(job, failureError(job.failedReason, maxAttempts));
    case 'active': {
      const p = asStatus(job.progress);
      if (p && !FINAL_STATES.has(p.state)) return { ...withoutPreview(p), id: job.id, position: 0 };
      // Taken by a worker that has not reported yet (or reported a final it has not returned).
      return { ...queuedStatus(job.id, d, 0, null), state: 'running', phase: 'inversion', startedAt: iso(job.processedOn) };
    }
    default:
      // waiting, prioritized, delayed (a stalled job on its way back), waiting-children: not running.
      return queuedStatus(job.id, d, position, etaMs);
  }
}

function failed(job: JobView, error: ApiError): JobStatus {
  const last = asStatus(job.progress);
  return {
    ...queuedStatus(job.id, job.data, 0, 0),
    ...(last ? { step: last.step, total: last.total, cacheHit: last.cacheHit } : {}),
    state: 'failed',
    phase: 'finished',
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn) ?? new Date().toISOString(),
    error,
  };
}

/** The final status of a job cancelled before any worker took it (kept in the `final` key). */
export function cancelledStatus(id: string, d: ClusterJobData): JobStatus {
  return { ...queuedStatus(id, d, 0, 0), state: 'cancelled', phase: 'finished', finishedAt: new Date().toISOString() };
}
