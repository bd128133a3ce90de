/**
 * The typed client of the engine service (docs/engine-api.md). The bots and the CLI talk to the engine
 * only through this: plain HTTP on loopback (or another host with a bearer token).
 */
import type { ApiError, ApiErrorCode, HealthResponse, JobEvent, JobStatus, ModelInfo, ResultVariant, SubmitRequest, SubmitResponse } from './api-types.js';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { API_ERROR_CODES, API_VERSION, SUBMIT_KEY_HEADER, SUBMIT_OWNER_HEADER } from './api-types.js';

export class EngineClientError extends Error {
  override readonly name = 'EngineClientError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly status: number,
    readonly retryAfterMs?: number,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** A submit whose image is given as bytes (sent as they are) or in base64 (SubmitRequest). */
export type SubmitWithImage = Omit<SubmitRequest, 'imageBase64'> & ({ readonly image: Uint8Array; readonly imageBase64?: undefined } | { readonly imageBase64: string; readonly image?: undefined });

/** The x-asyrp-owner and x-asyrp-idempotency-key headers, or null when they cannot carry the values. */
export function admissionHeaders(req: Pick<SubmitRequest, 'owner' | 'idempotencyKey'>): Record<string, string> | null {
  try {
    return {
      [SUBMIT_OWNER_HEADER]: encodeURIComponent(req.owner),
      ...(req.idempotencyKey ? { [SUBMIT_KEY_HEADER]: encodeURIComponent(req.idempotencyKey) } : {}),
    };
  } catch {
    // Not encodable (a lone surrogate): the engine reads the body and answers for it.
    return null;
  }
}

/**
 * A submit's body and headers, as EngineClient sends it: multipart/form-data with the image as raw
 * bytes (a quarter fewer bytes than base64 JSON, and nothing for the engine to decode), after headers
 * naming the owner and key so a full queue refuses it before reading the body (docs/engine-api.md,
 * "Submit"). An owner the headers cannot carry goes as JSON, which needs no such header.
 */
export function encodeSubmit(req: SubmitWithImage): { body: Buffer; headers: Record<string, string> } {
  const admission = admissionHeaders(req);
  const image = req.image ? Buffer.from(req.image.buffer, req.image.byteOffset, req.image.length) : Buffer.from(req.imageBase64, 'base64');
  if (!admission) {
    const { image: _bytes, ...fields } = req;
    const json: SubmitRequest = { ...fields, imageBase64: req.imageBase64 ?? image.toString('base64') };
    return { body: Buffer.from(JSON.stringify(json)), headers: { 'content-type': 'application/json' } };
  }
  const text: [string, string | undefined][] = [
    ['owner', req.owner],
    ['idempotencyKey', req.idempotencyKey],
    ['recipe', req.recipe],
    ['model', req.model],
    ['kind', req.kind],
    ['strengths', req.strengths && JSON.stringify(req.strengths)],
    ['size', req.size === undefined || req.size === null ? undefined : String(req.size)],
    ['faceIndex', req.faceIndex === undefined ? undefined : String(req.faceIndex)],
    ['labels', req.labels && JSON.stringify(req.labels)],
  ];
  for (;;) {
    const boundary = `asyrp-${randomBytes(16).toString('hex')}`;
    // A boundary must occur nowhere inside a part; a random 128-bit one all but never does, but make sure.
    if (image.indexOf(boundary) < 0 && !text.some(([, v]) => v?.includes(boundary))) {
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="image"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const fields = text.filter(([, v]) => v !== undefined).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      return { body: Buffer.concat([Buffer.from(fields.join('')), head, image, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...admission } };
    }
  }
}

export type Transport = (url: string, init: RequestInit & { signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>;

/** How long to wait for "100 Continue" before sending the body anyway (a proxy that drops the expectation). */
const CONTINUE_WAIT_MS = 1000;

/**
 * A POST whose body goes out only once the server says "100 Continue" (fetch cannot send the
 * expectation). A final answer that comes first is the answer, and the body is never sent; its
 * connection is not reused (the server may still be waiting for that body), so each call has its own.
 */
export const postExpectingContinue: Transport = (url, init) =>
  new Promise((resolve, reject) => {
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body instanceof Uint8Array ? init.body : Buffer.alloc(0);
    const target = new URL(url);
    const open = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let bodySent = false;
    const sendBody = () => {
      clearTimeout(timer);
      if (bodySent || req.destroyed) return;
      bodySent = true;
      req.end(body);
    };
    const req = open(target, { method: 'POST', agent: false, signal: init.signal, headers: { ...(init.headers as Record<string, string>), expect: '100-continue', 'content-length': String(body.length) } }, (res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        req.destroy();
      });
    });
    const timer = setTimeout(sendBody, CONTINUE_WAIT_MS);
    req.on('continue', sendBody);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.flushHeaders();
  });

export interface EngineClientOptions {
  /** e.g. http://127.0.0.1:7860 */
  readonly baseUrl: string;
  readonly token?: string | null;
  /** Per-request timeout for everything but the event stream. */
  readonly timeoutMs?: number;
}

export class EngineClient {
  private readonly base: string;

  constructor(private readonly opts: EngineClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '') + '/' + API_VERSION;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  private async request(path: string, init: RequestInit & { timeoutMs?: number } = {}, send: Transport = fetch): Promise<Response> {
    const signal = init.signal ?? AbortSignal.timeout(init.timeoutMs ?? this.opts.timeoutMs ?? 30_000);
    let res: Response;
    try {
      res = await send(this.base + path, { ...init, signal, headers: this.headers((init.headers as Record<string, string>) ?? {}) });
    } catch (e) {
      throw new EngineClientError('UNAVAILABLE', `the engine at ${this.opts.baseUrl} cannot be reached (${(e as Error).message})`, 0);
    }
    if (res.ok) return res;
    let body: { error?: ApiError } = {};
    try {
      body = (await res.json()) as { error?: ApiError };
    } catch {
      // not JSON: keep the status line
    }
    const err = body.error;
    const code = err && (API_ERROR_CODES as readonly string[]).includes(err.code) ? err.code : 'INTERNAL';
    throw new EngineClientError(code, err?.message ?? `engine answered ${res.status}`, res.status, err?.retryAfterMs, err?.details);
  }

  private async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.request(path, init)).json()) as T;
  }

  /**
   * Sent with `Expect: 100-continue` after headers naming the owner and key: an engine that refuses the
   * submit from its headers (a full queue or owner share, a repeated key) answers before a byte of the
   * image is sent (docs/engine-api.md, "Admission").
   */
  async submit(req: SubmitWithImage): Promise<SubmitResponse> {
    const { body, headers } = encodeSubmit(req);
    const res = await this.request('/jobs', { method: 'POST', body, headers }, postExpectingContinue);
    return (await res.json()) as SubmitResponse;
  }

  status(id: string): Promise<JobStatus> {
    return this.json(`/jobs/${encodeURIComponent(id)}`);
  }

  cancel(id: string): Promise<JobStatus> {
    return this.json(`/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  }

  /** A result at the model's resolution, or with `display` enlarged to that long side when smaller (chat clients). */
  async result(id: string, variant: ResultVariant = 'after', opts: { display?: number } = {}): Promise<Uint8Array> {
    const display = opts.display ? `&display=${Math.round(opts.display)}` : '';
    const res = await this.request(`/jobs/${encodeURIComponent(id)}/result?variant=${variant}${display}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  health(): Promise<HealthResponse> {
    return this.json('/health');
  }

  models(): Promise<{ models: ModelInfo[] }> {
    return this.json('/models');
  }

  /** Progress events until the job ends (the last event has a final state). */
  async *events(id: string, opts: { preview?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<JobEvent> {
    const res = await this.request(`/jobs/${encodeURIComponent(id)}/events${opts.preview ? '?preview=1' : ''}`, {
      headers: { accept: 'text/event-stream' },
      signal: opts.signal ?? new AbortController().signal,
    });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const event = JSON.parse(data) as JobEvent;
        yield event;
        if (['done', 'failed', 'cancelled'].includes(event.status.state)) return;
      }
    }
  }

  /** Follows a job to its end, calling onEvent for progress; resolves with the final status. */
  async wait(id: string, onEvent?: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobStatus> {
    let last: JobStatus | undefined;
    for await (const e of this.events(id, signal ? { signal } : {})) {
      last = e.status;
      onEvent?.(e);
    }
    return last ?? this.status(id);
  }
}
