/**
 * The engine's HTTP API (docs/engine-api.md) on node:http: JSON in and out (a submit may also come as
 * multipart/form-data, its image as raw bytes), server-sent events for
 * progress, PNG/WebP results, Prometheus metrics. Errors are mapped to statuses here and only here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { ApiError, JobEvent, JobStatus, ResultVariant } from '../client/api-types.js';
import type { Logger } from '../../log/logger.js';
import type { EngineApi, SubmitInput } from './engine-api.js';
import { HTTP_STATUS, ServiceError, toApiError } from './service-error.js';
import { checkContentType, checkHost, decodeSegment, readJsonBody, readMultipartSubmit, submitIntent } from './request-guards.js';

export interface HttpOptions {
  /** Required on every request when set (and the server refuses to listen off loopback without it). */
  readonly token: string | null;
  readonly maxBodyBytes: number;
  /** Host names requests may be addressed to (request-guards.ts allowedHostNames). */
  readonly allowedHosts: ReadonlySet<string>;
  readonly log?: Logger;
}

const VARIANTS: readonly ResultVariant[] = ['after', 'before', 'compare', 'grid', 'animation'];

export function createEngineHttpServer(service: EngineApi, opts: HttpOptions): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(service, opts, req, res).catch((e: unknown) => {
      const err = toApiError(e);
      if (err.code === 'INTERNAL') opts.log?.error('request failed', { method: req.method, path: req.url?.split('?')[0], err: e });
      // A body left unread (refused before reading it) is discarded as it arrives, never parsed as a request.
      if (!req.complete) req.resume();
      sendError(res, err);
    });
  };
  // A request with "Expect: 100-continue" is handled like any other, but its body is asked for
  // (writeContinue) only where one is read: a refusal from the headers never makes the client send it.
  return createServer(onRequest).on('checkContinue', onRequest);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) return void res.end();
  if (error.retryAfterMs !== undefined) res.setHeader('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
  sendJson(res, HTTP_STATUS[error.code] ?? 500, { error });
}

function authorized(req: IncomingMessage, token: string | null): boolean {
  if (!token) return true;
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseUrl(raw: string): URL {
  // Origin-form only ("/v1/..."): "//host/path" must not be read as a URL naming another host.
  if (!raw.startsWith('/')) throw new ServiceError('BAD_REQUEST', 'the request target must be a path');
  try {
    return new URL(`http://engine.local${raw}`);
  } catch {
    throw new ServiceError('BAD_REQUEST', 'the request target is not a valid path');
  }
}

async function handle(service: EngineApi, opts: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  checkHost(req, opts.allowedHosts);
  if (!authorized(req, opts.token)) throw new ServiceError('UNAUTHORIZED', 'a valid bearer token is required');
  const url = parseUrl(req.url ?? '/');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const bodyType = method === 'POST' ? checkContentType(req, { bodyRequired: path === '/v1/jobs', multipart: path === '/v1/jobs' }) : null;

  if (method === 'GET' && (path === '/metrics' || path === '/v1/metrics')) {
    const text = await service.renderMetrics();
    res.writeHead(200, { 'content-type': service.metricsContentType, 'content-length': Buffer.byteLength(text) });
    return void res.end(text);
  }
  if (method === 'GET' && path === '/v1/health') return sendJson(res, 200, await service.health());
  if (method === 'GET' && path === '/v1/models') return sendJson(res, 200, { models: await service.models() });
  if (method === 'POST' && path === '/v1/jobs') return submit(service, opts, req, res, bodyType === 'multipart');
  const m = /^\/v1\/jobs\/([^/]+)(\/(cancel|events|result))?$/.exec(path);
  if (!m) throw new ServiceError('NOT_FOUND', `no route ${method} ${path.slice(0, 100)}`);
  const id = decodeSegment(m[1]!);
  const action = m[3];
  if (!action && method === 'GET') return sendJson(res, 200, await service.status(id));
  if (action === 'cancel' && method === 'POST') return sendJson(res, 200, await service.cancel(id));
  if (action === 'result' && method === 'GET') {
    const variant = (url.searchParams.get('variant') ?? 'after') as ResultVariant;
    if (!VARIANTS.includes(variant)) throw new ServiceError('BAD_REQUEST', `variant must be one of ${VARIANTS.join(', ')}`);
    const display = displayParam(url.searchParams.get('display'));
    const { bytes, contentType } = display ? await service.displayResult(id, variant, display) : await service.result(id, variant);
    res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
    return void res.end(bytes);
  }
  if (action === 'events' && method === 'GET') return await streamEvents(service, id, url.searchParams.get('preview') === '1', req, res);
  throw new ServiceError('NOT_FOUND', `no route ${method} ${path.slice(0, 100)}`);
}

/**
 * A submit. When its headers name the owner (and key), admission runs before the body is read: a repeat
 * is answered and a refusal sent with the body discarded unread; otherwise the place held is the body's.
 */
async function submit(service: EngineApi, opts: HttpOptions, req: IncomingMessage, res: ServerResponse, multipart: boolean): Promise<void> {
  const intent = submitIntent(req);
  const early = intent && service.reserveSubmit ? await service.reserveSubmit(intent) : null;
  if (early && 'duplicate' in early) {
    req.resume();
    return sendJson(res, 200, early.duplicate);
  }
  const ticket = early?.ticket;
  try {
    if (/100-continue/i.test(req.headers.expect ?? '') && Number(req.headers['content-length'] ?? 0) <= opts.maxBodyBytes) res.writeContinue();
    const bodyStart = performance.now();
    const body = multipart ? await readMultipartSubmit(req, opts.maxBodyBytes) : await readJsonBody(req, opts.maxBodyBytes);
    service.observeSubmitBody?.((performance.now() - bodyStart) / 1000);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServiceError('BAD_REQUEST', 'the request body must be a JSON object');
    const answer = await service.submit(body as SubmitInput, ticket);
    return sendJson(res, answer.duplicate ? 200 : 202, answer);
  } finally {
    ticket?.release();
  }
}

/** The largest display size a caller may ask for: enough for any chat client, small enough to stay cheap. */
export const MAX_DISPLAY_SIZE = 4096;

/** `?display=N`: a whole number of pixels for the long side, 1..4096; absent: the model's own pixels. */
function displayParam(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_DISPLAY_SIZE)) throw new ServiceError('BAD_REQUEST', `display must be a whole number of pixels from 1 to ${MAX_DISPLAY_SIZE}`);
  return n;
}

/**
 * Server-sent events: the current status at once, then every change, ending with the final state. The
 * subscription is taken before the current status is read, so no change between the two is lost (an
 * engine that answers asynchronously could otherwise finish the job in between and leave the stream open).
 */
async function streamEvents(service: EngineApi, id: string, previews: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pending: JobEvent[] = [];
  let live: ((e: JobEvent) => void) | null = null;
  const unsubscribe = await service.subscribe(id, previews, (e) => (live ? live(e) : pending.push(e))); // NOT_FOUND before any header is written
  let first: JobStatus;
  try {
    first = await service.status(id);
  } catch (e) {
    unsubscribe();
    throw e;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  let closed = false;
  const send = (e: JobEvent) => {
    if (closed) return;
    res.write(`event: progress\ndata: ${JSON.stringify(e)}\n\n`);
    if (FINAL_STATES.has(e.status.state)) end();
  };
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
  };
  req.on('close', end);
  send({ status: first });
  // What changed while the status was read; events older than it are stale and skipped by their step.
  live = send;
  for (const e of pending) if (isNewer(e.status, first)) send(e);
}

const FINAL_STATES = new Set(['done', 'failed', 'cancelled']);

/** Whether an event read before `first` still says something `first` does not. */
function isNewer(e: JobStatus, first: JobStatus): boolean {
  if (FINAL_STATES.has(first.state)) return false;
  return FINAL_STATES.has(e.state) || e.step > first.step || (e.state === 'running' && first.state === 'queued');
}
