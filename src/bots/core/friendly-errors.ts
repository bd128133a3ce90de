/**
 * Turns any error into a short sentence for the person who asked. Engine API codes and storage codes
 * each get their own words; recipe errors keep the parser's message because it points at the bad token
 * and lists what would work. Anything unknown becomes a generic line with a log id the operator can grep.
 */
import { randomBytes } from 'node:crypto';
import type { ApiErrorCode } from '../../engine/client/api-types.js';
import { EngineClientError } from '../../engine/client/engine-client.js';
import { EngineError } from '../../engine/errors.js';
import { isStorageError } from '../../storage/index.js';
import type { StorageErrorCode } from '../../storage/index.js';
import { UserFacingError } from './user-facing-error.js';

const API_WORDS: Record<ApiErrorCode, string> = {
  RECIPE_SYNTAX: 'I could not read that recipe. Try something like `smile:0.8`.',
  RECIPE_UNKNOWN_DIRECTION: 'That direction is not installed on this model. `/asyrp help` lists the ones that are.',
  RECIPE_BAD_VALUE: 'A value in that recipe is out of range (strengths go from -3 to 3).',
  RECIPE_TOO_MANY: 'That recipe mixes too many directions (at most 10).',
  RECIPE_UNKNOWN_OPTION: 'That recipe has an option I do not know. The options are steps, t_edit, t_boost and seed.',
  IMAGE_EMPTY: 'That image is empty.',
  IMAGE_TOO_LARGE: 'That image is too large. Try a smaller one.',
  IMAGE_UNSUPPORTED_FORMAT: 'I can only edit PNG, JPEG, WebP or GIF images.',
  IMAGE_CORRUPT: 'That image looks damaged; I could not read it.',
  NO_FACE: 'I could not find a face in that photo. Try one where a face is clearly visible.',
  MODEL_NOT_FOUND: 'The model for this edit is not installed any more.',
  MODEL_INVALID: 'The edit model is broken on this server; an admin has to look at it.',
  MODEL_MISMATCH: 'That direction does not belong to the loaded model.',
  DIRECTION_NOT_FOUND: 'That direction is not installed on this model.',
  DIRECTION_INVALID: 'That direction file is broken on this server; an admin has to look at it.',
  INFERENCE_FAILED: 'The edit failed inside the model. Try again, or try another image.',
  CANCELLED: 'The edit was cancelled.',
  IO_FAILED: 'The engine could not read or write a file. Try again in a moment.',
  BAD_REQUEST: 'The engine did not accept that request.',
  PAYLOAD_TOO_LARGE: 'That image is too large. Try a smaller one.',
  UNSUPPORTED_MEDIA_TYPE: 'The engine did not accept that request.',
  MISDIRECTED_REQUEST: 'The bot reaches the engine under a name it does not answer to; an admin has to check engine.allowedHosts.',
  UNAUTHORIZED: 'The bot is not allowed to use the engine; an admin has to check the engine token.',
  NOT_FOUND: 'That edit is not known to the engine any more.',
  NOT_READY: 'The engine is still starting. Try again in a minute.',
  BUSY: 'The engine is busy right now. Try again in a minute.',
  OWNER_LIMIT: 'You already have edits waiting. Let them finish first.',
  TIMEOUT: 'The edit took too long and was stopped.',
  INTERRUPTED: 'The engine stopped in the middle of this edit several times, so it was given up. Try another image.',
  SHUTTING_DOWN: 'The engine is restarting. Try again in a minute.',
  INTERNAL: 'Something went wrong in the engine.',
  UNAVAILABLE: 'The edit engine is offline right now. Try again later.',
};

const STORAGE_WORDS: Partial<Record<StorageErrorCode, string>> = {
  NOT_FOUND: 'I could not find that.',
  FORBIDDEN: 'You are not allowed to do that.',
  TOO_MANY_PRESETS: 'You have as many presets as an account may keep; delete one first.',
  BUSY: 'The bot database is busy. Try again in a moment.',
  DISK_FULL: 'The bot server is out of disk space; an admin has to look at it.',
};

// Storage messages for these codes are written for people and name the field or limit to fix.
const STORAGE_SELF_EXPLAINING: readonly StorageErrorCode[] = ['NAME_TAKEN', 'INVALID_NAME', 'INVALID_DESCRIPTION', 'INVALID_RECIPE', 'INVALID_INPUT', 'TOO_MANY_PRESETS', 'NOT_FOUND', 'FORBIDDEN', 'LINK_CODE_INVALID', 'ALREADY_LINKED'];

export interface FriendlyError {
  readonly text: string;
  /** Set when the error was unexpected: logged with this id, shown to the person. */
  readonly logId?: string;
  readonly retryAfterMs?: number;
}

/** Codes that say the engine or the server is unwell: everybody in the channel may as well know. */
const EVERYBODY_CODES: readonly ApiErrorCode[] = [
  'UNAVAILABLE', 'BUSY', 'NOT_READY', 'SHUTTING_DOWN', 'INTERNAL', 'INFERENCE_FAILED', 'TIMEOUT', 'UNAUTHORIZED',
  'MODEL_NOT_FOUND', 'MODEL_INVALID', 'MODEL_MISMATCH', 'DIRECTION_INVALID', 'IO_FAILED',
];

/**
 * Whether an error is about the person's own file or recipe (or their own limits): told to them alone
 * (ephemeral), with no status line or empty thread left in the channel. Errors that concern everybody
 * (the engine is down, a broken model) stay public.
 */
export function concernsOnlyThem(e: unknown): boolean {
  if (e instanceof UserFacingError) return e.kind !== 'internal' && e.kind !== 'busy';
  if (e instanceof EngineClientError || e instanceof EngineError) return !EVERYBODY_CODES.includes(e.code);
  if (isStorageError(e)) return STORAGE_SELF_EXPLAINING.includes(e.code);
  return false;
}

export function friendlyMessageForCode(code: ApiErrorCode): string {
  return API_WORDS[code] ?? API_WORDS.INTERNAL;
}

export function toFriendlyError(e: unknown): FriendlyError {
  if (e instanceof UserFacingError) return { text: e.message, ...(e.retryAfterMs ? { retryAfterMs: e.retryAfterMs } : {}) };
  if (e instanceof EngineError && e.code.startsWith('RECIPE_')) return { text: e.message };
  if (e instanceof EngineClientError) {
    if (e.code.startsWith('RECIPE_')) return { text: e.message.slice(0, 1500) };
    return { text: friendlyMessageForCode(e.code), ...(e.retryAfterMs ? { retryAfterMs: e.retryAfterMs } : {}) };
  }
  if (isStorageError(e)) {
    if (STORAGE_SELF_EXPLAINING.includes(e.code)) return { text: e.message };
    const words = STORAGE_WORDS[e.code];
    if (words) return { text: words };
  }
  const logId = randomBytes(4).toString('hex');
  return { text: `Something went wrong on my side (log id ${logId}).`, logId };
}

/** A one-line description of an error for operators: code and class, never a URL, token or body. */
export function describeForLog(e: unknown): string {
  if (e instanceof EngineClientError) return `EngineClientError ${e.code} (HTTP ${e.status})`;
  if (e instanceof EngineError || isStorageError(e)) return `${e.name} ${e.code}`;
  const err = e as { name?: string; code?: unknown; status?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? redactSecrets(err.message).slice(0, 300) : String(e).slice(0, 300);
  return `${err?.name ?? 'Error'}${err?.code !== undefined ? ` ${String(err.code)}` : ''}${err?.status !== undefined ? ` (HTTP ${String(err.status)})` : ''}: ${message}`;
}

/** Interaction and webhook tokens live in URL paths; bot tokens in headers. Strip both. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(interactions\/\d+\/|webhooks\/\d+\/)[^/?\s]+/g, '$1[redacted]')
    .replace(/(Bot|Bearer)\s+[A-Za-z0-9._-]+/g, '$1 [redacted]');
}
