/**
 * What the HTTP API (http-server.ts) needs of an engine: the local EngineService (one process owns the
 * queue and the models) and the cluster engine of the api role (BullMQ on Redis, src/engine/cluster)
 * both implement it, so docs/engine-api.md is served unchanged by either. Methods may answer at once or
 * with a promise: the local service reads memory, the cluster engine reads Redis.
 */
import type { HealthResponse, JobEvent, JobStatus, ModelInfo, ResultVariant, SubmitRequest, SubmitResponse } from '../client/api-types.js';

/** What a submit's headers declare before its body is read (docs/engine-api.md, "Admission"). */
export interface SubmitIntent {
  readonly owner: string;
  readonly idempotencyKey: string | null;
}

/** A place in the queue taken at header time; the submit that reads the body uses it, or it is given back. */
export interface SubmitTicket {
  readonly intent: SubmitIntent;
  /** Gives the place back (idempotent): the submit was refused, or its job is in the queue now. */
  release(): void;
}

/**
 * A submit as the HTTP API hands it over: the JSON body's SubmitRequest (image in base64), or a
 * multipart body's fields with the image's bytes as they came (multipart-body.ts).
 */
export interface SubmitInput extends Omit<SubmitRequest, 'imageBase64'> {
  readonly imageBase64?: string;
  readonly imageBytes?: Uint8Array;
}

export type MaybePromise<T> = T | Promise<T>;

export interface ResultBytes {
  readonly bytes: Buffer;
  readonly contentType: string;
}

export interface EngineApi {
  /**
   * Admission from a submit's headers, before its body is read (docs/engine-api.md, "Admission"): a
   * repeated key is answered, a full queue or owner share refused, otherwise a place is held for the
   * submit that reads the body. An engine without it reads every body first.
   */
  reserveSubmit?(intent: SubmitIntent): MaybePromise<{ duplicate: SubmitResponse } | { ticket: SubmitTicket }>;
  /** Times the reading and parsing of a submit's body (a metric; an engine without it does not time it). */
  observeSubmitBody?(seconds: number): void;
  /** `ticket`: the place reserveSubmit held for this submit; it is given back whatever the outcome. */
  submit(req: SubmitInput, ticket?: SubmitTicket): Promise<SubmitResponse>;
  /** Throws a NOT_FOUND ServiceError for an unknown job. */
  status(id: string): MaybePromise<JobStatus>;
  cancel(id: string): MaybePromise<JobStatus>;
  result(id: string, variant: ResultVariant): MaybePromise<ResultBytes>;
  /** A still result enlarged to `displaySize` on its long side when smaller (docs/engine-api.md, display=N). */
  displayResult(id: string, variant: ResultVariant, displaySize: number): Promise<ResultBytes>;
  /**
   * Calls `send` with every later status of the job (and previews when asked) until its final state;
   * returns the unsubscribe. Throws NOT_FOUND for an unknown job.
   */
  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): MaybePromise<() => void>;
  health(): MaybePromise<HealthResponse>;
  models(): MaybePromise<ModelInfo[]>;
  /** Prometheus text exposition. */
  renderMetrics(): Promise<string>;
  /** The exposition's content type. */
  readonly metricsContentType: string;
}
