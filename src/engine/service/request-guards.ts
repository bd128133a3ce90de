/**
 * Checks on a request before any route runs: who it is addressed to (Host), what it carries
 * (Content-Type), how big and how deep its JSON body is, and whether its path decodes. Each refusal is a
 * ServiceError with its own code, so a hostile or broken request gets a 4xx, never a 500.
 */
import type { IncomingMessage } from 'node:http';
import { SUBMIT_KEY_HEADER, SUBMIT_OWNER_HEADER } from '../client/api-types.js';
import { ServiceError } from './service-error.js';
import { JsonBodyScan } from './json-body.js';
import { multipartBoundary, parseMultipartSubmit } from './multipart-body.js';
import type { SubmitInput } from './engine-api.js';

/** Host names every engine answers to: a browser page on another origin cannot make its Host one of these. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Deeper JSON than this is no submit request: refused while reading, before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 32;

/**
 * The names a request's Host header may carry. A Host that is none of them is a DNS-rebinding attempt
 * (a hostile page whose name resolves to this engine) or a misrouted proxy: 421 Misdirected Request.
 * `configuredHost` counts even as a wildcard address (0.0.0.0, ::): our own clients default to
 * http://engine.host:engine.port, and no attacker's DNS name is spelled 0.0.0.0.
 */
export function allowedHostNames(configuredHost: string, allowedHosts: readonly string[]): ReadonlySet<string> {
  const names = new Set([...LOOPBACK_NAMES].map((h) => h.toLowerCase()));
  names.add(configuredHost.toLowerCase().replace(/^\[|\]$/g, ''));
  for (const h of allowedHosts) names.add(h.toLowerCase().replace(/^\[|\]$/g, ''));
  return names;
}

/** The host name of a Host header value, without port or IPv6 brackets. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function checkHost(req: IncomingMessage, allowed: ReadonlySet<string>): void {
  if (allowed.has('*')) return;
  const header = req.headers.host;
  const name = header ? hostName(header) : '';
  // 127.0.0.0/8 is loopback as a whole.
  if (allowed.has(name) || /^127(\.\d{1,3}){3}$/.test(name)) return;
  throw new ServiceError('MISDIRECTED_REQUEST', `this engine does not answer to the host "${name.slice(0, 100)}"; add it to engine.allowedHosts if it should`);
}

/**
 * A body must be JSON, or where `multipart` allows it (a submit) multipart/form-data. Anything else,
 * text/plain and urlencoded forms in particular, is refused before a byte of it is read. multipart is
 * one of the kinds a web page on another origin may POST without asking (a "simple" request), so a
 * submit that carries it must name its owner in x-asyrp-owner (see submitIntent): a custom header is
 * what no page can send cross-origin without a CORS preflight, which this API never grants.
 */
export function checkContentType(req: IncomingMessage, opts: { bodyRequired: boolean; multipart: boolean }): 'json' | 'multipart' | null {
  const type = req.headers['content-type'];
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (type === undefined && !opts.bodyRequired && !hasBody) return null;
  const mediaType = (type ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (opts.multipart && mediaType === 'multipart/form-data') {
    if (req.headers[SUBMIT_OWNER_HEADER] === undefined) {
      throw new ServiceError('BAD_REQUEST', `a multipart submit must name its owner in the ${SUBMIT_OWNER_HEADER} header (as EngineClient does)`);
    }
    return 'multipart';
  }
  const allowed = opts.multipart ? 'application/json or multipart/form-data' : 'application/json';
  throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', `the request body must be ${allowed}; got ${type ? `"${type.slice(0, 100)}"` : 'no content type'}`);
}

/** A path segment, percent-decoded; malformed escapes are the client's error (400). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServiceError('BAD_REQUEST', `the path holds malformed percent-encoding ("${segment.slice(0, 64)}")`);
  }
}

/**
 * What a submit's headers declare (x-asyrp-owner, x-asyrp-idempotency-key; api-types.ts), or null when
 * it names no owner and must be read before it can be admitted. Values are percent-encoded UTF-8.
 */
export function submitIntent(req: IncomingMessage): { owner: string; idempotencyKey: string | null } | null {
  const header = (name: string): string | null => {
    const v = req.headers[name];
    if (v === undefined) return null;
    if (Array.isArray(v)) throw new ServiceError('BAD_REQUEST', `the ${name} header may appear once`);
    try {
      return decodeURIComponent(v);
    } catch {
      throw new ServiceError('BAD_REQUEST', `the ${name} header holds malformed percent-encoding`);
    }
  };
  const owner = header(SUBMIT_OWNER_HEADER);
  const idempotencyKey = header(SUBMIT_KEY_HEADER);
  if (owner === null) {
    if (idempotencyKey !== null) throw new ServiceError('BAD_REQUEST', `the ${SUBMIT_KEY_HEADER} header needs ${SUBMIT_OWNER_HEADER} with it`);
    return null;
  }
  return { owner, idempotencyKey };
}

/** Reads a JSON body of at most `max` bytes (readBody), scanned as it comes and parsed once whole. */
export async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  const scan = new JsonBodyScan(MAX_JSON_DEPTH);
  const body = await readBody(req, max, (b) => scan.feed(b));
  return scan.parse(body);
}

/** Reads a multipart/form-data submit of at most `max` bytes (readBody) and splits it (multipart-body.ts). */
export async function readMultipartSubmit(req: IncomingMessage, max: number): Promise<SubmitInput> {
  const boundary = multipartBoundary(req.headers['content-type'] ?? '');
  return parseMultipartSubmit(await readBody(req, max), boundary);
}

/**
 * Reads a body of at most `max` bytes, handing each chunk to `feed` (which may refuse it by throwing).
 * A declared Content-Length over the limit is refused before reading anything; a body that grows past
 * it (chunked) is refused as soon as it does. A refused body is not torn down but discarded as it keeps
 * coming (req.resume): closing a socket with unread bytes makes the kernel reset the connection, which
 * can destroy the 413 before the client reads it.
 */
function readBody(req: IncomingMessage, max: number, feed?: (chunk: Buffer) => void): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => new ServiceError('PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes`);
  if (declared > max) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve, reject) => {
    const stop = (e: unknown) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      req.resume();
      reject(e);
    };
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > max) return stop(tooLarge());
      try {
        feed?.(b);
      } catch (e) {
        return stop(e);
      }
      chunks.push(b);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = () => stop(new ServiceError('BAD_REQUEST', 'the request body could not be read'));
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
