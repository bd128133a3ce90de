/**
 * The engine service's HTTP API, version 1 (docs/engine-api.md): the types both the server and the
 * typed client use. Plain data only, so the bots depend on this file and the client, never on the
 * engine's internals.
 */

import { ENGINE_ERROR_CODES } from '../errors.js';

export const API_VERSION = 'v1';

export type JobKind = 'edit' | 'compare' | 'sweep';
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
/** `finishing`: the job has ended but its final state is not yet durably recorded (it reads as running until it is). */
export type JobPhase = 'queued' | 'inversion' | 'editing' | 'denoising' | 'boosting' | 'encoding' | 'finishing' | 'finished';

/**
 * Error codes over the API: every engine code (src/engine/errors.ts, a pure list) plus the service's and
 * the client's. Closed: the bots map each to words, and a new engine code makes their typecheck say so.
 */
export const API_ERROR_CODES = [
  ...ENGINE_ERROR_CODES,
  // Service-level.
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'MISDIRECTED_REQUEST',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'NOT_READY',
  'BUSY',
  'OWNER_LIMIT',
  'TIMEOUT',
  // In status only: the engine died during this job on each of its three starts; it is not tried again.
  'INTERRUPTED',
  'SHUTTING_DOWN',
  'INTERNAL',
  // Client-side: the engine could not be reached.
  'UNAVAILABLE',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  readonly code: ApiErrorCode;
  readonly message: string;
  /** For BUSY and OWNER_LIMIT: when trying again makes sense. */
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Headers a submit may carry so the engine can admit or refuse it before reading its body (a 260 kB
 * image): the body's `owner` and `idempotencyKey`, percent-encoded (UTF-8). When the owner header is
 * present the body must name the same owner and key.
 */
export const SUBMIT_OWNER_HEADER = 'x-asyrp-owner';
export const SUBMIT_KEY_HEADER = 'x-asyrp-idempotency-key';

export interface SubmitRequest {
  /** The input image, base64-encoded (PNG, JPEG, WebP or GIF). */
  readonly imageBase64: string;
  /** Recipe text in the shared grammar; presets must already be resolved to directions. */
  readonly recipe: string;
  /** Model id; the engine's default when absent. */
  readonly model?: string;
  /** Who asked, e.g. "discord:<guild>:<user>"; fairness and per-owner limits key on it. */
  readonly owner: string;
  /** A second submission with the same key returns the same job. */
  readonly idempotencyKey?: string;
  readonly kind?: JobKind;
  /** sweep: the strength multipliers (default 0.25, 0.5, 1, 1.5). */
  readonly strengths?: readonly number[];
  /** Output edge length in pixels (the model's resolution when absent; ignored for face models, whose result is the whole photo). */
  readonly size?: number;
  /** Face models: which face to edit, 0 = the largest (default). */
  readonly faceIndex?: number;
  /** Free-form labels echoed back in status (platform message ids and the like). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface SubmitResponse {
  readonly id: string;
  readonly state: JobState;
  /** 1-based place in the queue, 0 once running. */
  readonly position: number;
  /** True when this idempotency key had already been used: the job is the earlier one. */
  readonly duplicate: boolean;
}

export interface JobStatus {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly phase: JobPhase;
  readonly position: number;
  /** Model evaluations done and in all (all samples of a sweep together). */
  readonly step: number;
  readonly total: number;
  readonly etaMs: number | null;
  /** The inversion was taken from the cache (a re-edit of the same image). */
  readonly cacheHit: boolean;
  readonly model: string;
  readonly recipe: string;
  readonly owner: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: ApiError | null;
  /** Result variants that can be fetched once done. */
  readonly results: readonly ResultVariant[];
  readonly labels: Readonly<Record<string, string>>;
  /** Set when the input is clearly outside what the model edits: one line for the person, pointing to docs/models.md. */
  readonly domainNote?: string;
}

/** after: the edited image; before: the preprocessed input; compare: before | after; grid and animation for sweeps. */
export type ResultVariant = 'after' | 'before' | 'compare' | 'grid' | 'animation';

/** One server-sent event on /v1/jobs/:id/events (event name "progress", then one "end"). */
export interface JobEvent {
  readonly status: JobStatus;
  /** A small PNG of the current predicted x0, base64, when previews were requested. */
  readonly previewBase64?: string;
}

export interface ModelInfo {
  readonly id: string;
  readonly title: string;
  /** What the model edits ("synthetic cartoon faces, 32 px"); null when the package does not say. */
  readonly domain: string | null;
  readonly resolution: number;
  readonly isDefault: boolean;
  readonly directions: readonly { readonly name: string; readonly description: string; readonly defaultStrength: number }[];
}

export interface HealthResponse {
  readonly status: 'ok' | 'draining';
  readonly version: string;
  readonly models: readonly string[];
  readonly queue: { readonly queued: number; readonly running: number };
}
