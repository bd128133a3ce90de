/**
 * The Slack side of requests into the app: bodies HMAC-signed the way Slack signs them (v0, timestamp,
 * raw body), sent as a string with the exact content type Bolt compares against. Knobs for the
 * security tests: another secret, another timestamp, no headers at all, retry headers.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';

export interface SignOptions {
  readonly secret: string;
  /** Seconds since the epoch; default now. */
  readonly timestamp?: number;
  readonly unsigned?: boolean;
  readonly retryNum?: number;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface Delivery {
  readonly status: number;
  readonly text: string;
  readonly ms: number;
  json<T = Record<string, unknown>>(): T;
}

export async function postSigned(url: string, body: string, contentType: string, o: SignOptions): Promise<Delivery> {
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (!o.unsigned) {
    headers['x-slack-request-timestamp'] = String(ts);
    headers['x-slack-signature'] = signature(o.secret, ts, body);
  }
  if (o.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(o.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const started = Date.now();
  // A fresh connection per request (agent: false): a refused oversized body resets its socket, which
  // must not poison a pooled connection that the next request would reuse.
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (e) => (early ? resolve(early) : reject(e)));
    let early: { status: number; text: string } | null = null;
    req.on('response', (res) => {
      early = { status: res.statusCode ?? 0, text: '' };
    });
    req.end(body);
  });
  return { status, text, ms: Date.now() - started, json: <T>() => (text ? JSON.parse(text) : {}) as T };
}

export const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
