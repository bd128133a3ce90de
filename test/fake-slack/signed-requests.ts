/**
 * The Slack side of requests into the app: bodies HMAC-signed the way Slack signs them (v0, timestamp,
 * raw body), sent as a string with the exact content type Bolt compares against. Knobs for the
 * security tests: another secret, another timestamp, no headers at all, retry headers.
 */
import { createHmac } from 'node:crypto';

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
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started, json: <T>() => (text ? JSON.parse(text) : {}) as T };
}

export const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
