/**
 * Errors of the Redis scale-out, with a closed set of codes; the API edge maps them to API errors
 * (toClusterApiError) so a bot sees the same codes as with the local queue.
 */
import type { ApiError } from '../client/api-types.js';

export const CLUSTER_ERROR_CODES = [
  // A blob (input, result, cache entry) over engine.cluster.maxBlobBytes: Redis holds it all in memory.
  'BLOB_TOO_LARGE',
  // A blob the job needs is gone (expired, or Redis lost it on a restart without persistence).
  'BLOB_MISSING',
  // Redis cannot be reached or refused a command.
  'REDIS_UNAVAILABLE',
  // job.data of another contract version or shape: never misread, the job fails.
  'BAD_JOB_DATA',
] as const;
export type ClusterErrorCode = (typeof CLUSTER_ERROR_CODES)[number];

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isClusterError(e: unknown, code?: ClusterErrorCode): e is ClusterError {
  return e instanceof ClusterError && (code === undefined || e.code === code);
}

/** The API error a cluster failure is reported as (never a host name or a Redis URL). */
export function toClusterApiError(e: ClusterError): ApiError {
  switch (e.code) {
    case 'BLOB_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', message: e.message, details: { clusterCode: e.code } };
    case 'BLOB_MISSING':
      return { code: 'IO_FAILED', message: e.message, details: { clusterCode: e.code } };
    case 'REDIS_UNAVAILABLE':
      return { code: 'BUSY', message: 'the job queue cannot be reached; try again shortly', retryAfterMs: 5000, details: { clusterCode: e.code } };
    case 'BAD_JOB_DATA':
      return { code: 'INTERNAL', message: e.message, details: { clusterCode: e.code } };
  }
}
