/** Service-level errors (queue full, bad request, not found …) and the mapping of any error to the API's. */
import { API_ERROR_CODES, type ApiError, type ApiErrorCode } from '../client/api-types.js';
import { EngineError } from '../errors.js';
import { isStorageError, type StorageErrorCode } from '../../storage/index.js';

export type ServiceErrorCode =
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MISDIRECTED_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'NOT_READY'
  | 'BUSY'
  | 'OWNER_LIMIT'
  | 'TIMEOUT'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** Error.stackTraceLimit while a ServiceError is built (see withoutStack). */
let savedStackLimit = Error.stackTraceLimit;

/** Turns stack capture off for the Error constructor about to run; the constructor turns it back on. */
function withoutStack(message: string): string {
  savedStackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return message;
}

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly extra: { retryAfterMs?: number } = {},
  ) {
    // An answer to the client, not a fault: no stack is captured. A burst's hundreds of refusals spent
    // ~15 ms of the event loop walking stacks nobody reads (CPU profile of `asyrp bench load`).
    super(withoutStack(message));
    Error.stackTraceLimit = savedStackLimit;
  }
}

/**
 * A failure already said as an API error by the part that knows it (the Redis scale-out maps its own
 * errors at its edge, src/engine/cluster/cluster-error.ts); passed through unchanged.
 */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return (API_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * Storage codes over the API. A mistake in what was sent is the request's fault (400); a busy database
 * is worth retrying (503); anything about the disk or the database file is IO_FAILED (507), so that a
 * full disk or a read-only database never answers 500.
 */
const STORAGE_TO_API: Record<StorageErrorCode, ApiErrorCode> = {
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'BAD_REQUEST',
  NAME_TAKEN: 'BAD_REQUEST',
  INVALID_NAME: 'BAD_REQUEST',
  INVALID_DESCRIPTION: 'BAD_REQUEST',
  INVALID_RECIPE: 'BAD_REQUEST',
  INVALID_INPUT: 'BAD_REQUEST',
  TOO_MANY_PRESETS: 'BAD_REQUEST',
  LINK_CODE_INVALID: 'BAD_REQUEST',
  ALREADY_LINKED: 'BAD_REQUEST',
  INVALID_STATE: 'IO_FAILED',
  CONFLICT: 'IO_FAILED',
  READ_ONLY: 'IO_FAILED',
  DISK_FULL: 'IO_FAILED',
  BUSY: 'BUSY',
  CORRUPT: 'IO_FAILED',
  CANT_OPEN: 'IO_FAILED',
  SCHEMA_TOO_NEW: 'IO_FAILED',
  IO_FAILED: 'IO_FAILED',
  INTERNAL: 'IO_FAILED',
};

/** A Node file-system error (it carries an errno code such as ENOSPC and the failing syscall). */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!) && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** Any thrown value as an API error; unknown failures become INTERNAL without leaking internals. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return e.error;
  if (e instanceof ServiceError) return { code: e.code, message: e.message, ...(e.extra.retryAfterMs !== undefined ? { retryAfterMs: e.extra.retryAfterMs } : {}) };
  if (e instanceof EngineError) {
    const details = Object.fromEntries(Object.entries(e.details).filter(([, v]) => v !== undefined));
    // Every engine code is an API code; the check keeps an unknown one from leaking out as-is.
    const code = isApiErrorCode(e.code) ? e.code : 'BAD_REQUEST';
    if (code !== e.code) details['engineCode'] = e.code;
    return { code, message: e.message, ...(Object.keys(details).length ? { details } : {}) };
  }
  if (isStorageError(e)) {
    const code = STORAGE_TO_API[e.code];
    // A domain message names the field to fix; a disk or database message says what failed, never a path.
    const message = code === 'BAD_REQUEST' || code === 'NOT_FOUND' ? e.message : e.code === 'DISK_FULL' ? 'the disk is full (the job database could not be written)' : `the job database could not be used (${e.code})`;
    return { code, message, details: { storageCode: e.code }, ...(code === 'BUSY' ? { retryAfterMs: 2000 } : {}) };
  }
  if (isSystemError(e)) {
    return { code: 'IO_FAILED', message: e.code === 'ENOSPC' ? 'the disk is full' : `a file could not be read or written (${e.code})`, details: { errno: e.code } };
  }
  return { code: 'INTERNAL', message: 'the engine hit an internal error; it has been logged' };
}

export const HTTP_STATUS: Record<ApiErrorCode, number> = {
  RECIPE_SYNTAX: 422,
  RECIPE_UNKNOWN_DIRECTION: 422,
  RECIPE_BAD_VALUE: 422,
  RECIPE_TOO_MANY: 422,
  RECIPE_UNKNOWN_OPTION: 422,
  IMAGE_EMPTY: 422,
  IMAGE_TOO_LARGE: 413,
  IMAGE_UNSUPPORTED_FORMAT: 415,
  IMAGE_CORRUPT: 422,
  NO_FACE: 422,
  MODEL_NOT_FOUND: 404,
  MODEL_INVALID: 500,
  MODEL_MISMATCH: 500,
  DIRECTION_NOT_FOUND: 422,
  DIRECTION_INVALID: 500,
  INFERENCE_FAILED: 500,
  CANCELLED: 409,
  IO_FAILED: 507,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MISDIRECTED_REQUEST: 421,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  NOT_READY: 409,
  BUSY: 503,
  OWNER_LIMIT: 429,
  TIMEOUT: 504,
  INTERRUPTED: 500,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};
