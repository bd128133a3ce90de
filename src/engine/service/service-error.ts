/** Service-level errors (queue full, bad request, not found …) and the mapping of any error to the API's. */
import { API_ERROR_CODES, type ApiError, type ApiErrorCode } from '../client/api-types.js';
import { EngineError } from '../errors.js';

export type ServiceErrorCode = 'BAD_REQUEST' | 'UNAUTHORIZED' | 'NOT_FOUND' | 'NOT_READY' | 'BUSY' | 'OWNER_LIMIT' | 'TIMEOUT' | 'SHUTTING_DOWN' | 'INTERNAL';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly extra: { retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return (API_ERROR_CODES as readonly string[]).includes(code);
}

/** Any thrown value as an API error; unknown failures become INTERNAL without leaking internals. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ServiceError) return { code: e.code, message: e.message, ...(e.extra.retryAfterMs !== undefined ? { retryAfterMs: e.extra.retryAfterMs } : {}) };
  if (e instanceof EngineError) {
    const details = Object.fromEntries(Object.entries(e.details).filter(([, v]) => v !== undefined));
    // Every engine code is an API code; the check keeps an unknown one from leaking out as-is.
    const code = isApiErrorCode(e.code) ? e.code : 'BAD_REQUEST';
    if (code !== e.code) details['engineCode'] = e.code;
    return { code, message: e.message, ...(Object.keys(details).length ? { details } : {}) };
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
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  NOT_READY: 409,
  BUSY: 503,
  OWNER_LIMIT: 429,
  TIMEOUT: 504,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};
