/**
 * Hostile and broken requests over real HTTP: each gets a 4xx with a closed error code, never a 500, and
 * a refused submit leaves nothing on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type IncomingMessage } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { allowedHostNames, checkHost } from '../../src/engine/service/request-guards.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

let server: EngineServer;
let dataDir: string;
let port: number;
const image = sampleImageBase64();

beforeAll(async () => {
  ({ server, dataDir } = await startTestEngine({ allowedHosts: ['engine.internal'] }));
  port = server.port;
});
afterAll(async () => server?.close());

interface Answer {
  readonly status: number;
  readonly body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request with full control of the headers (fetch would fix Host and Content-Type for us). */
/** `body` null: send the headers and wait, without a byte of body (or its end). */
function send(method: string, path: string, headers: Record<string, string | number> = {}, body?: string | Buffer | null | (() => AsyncIterable<Buffer>)): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, body: text ? (JSON.parse(text) as Answer['body']) : {} });
        req.destroy();
      });
    });
    // The server may stop reading while we still write a refused body: that is the point, not a failure,
    // as long as its answer arrives.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (e: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(e.code ?? '') ? undefined : reject(e)));
    req.on('close', () => (answered ? undefined : reject(new Error(`${method} ${path}: the connection closed without an answer`))));
    if (typeof body === 'function') {
      void (async () => {
        for await (const chunk of body()) if (!req.destroyed && !req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    } else if (body === null) req.flushHeaders();
    else req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const submitBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ imageBase64: image, recipe: 'shift steps:4', owner: 'h', ...extra });
const jobFolders = () => (existsSync(join(dataDir, 'jobs')) ? readdirSync(join(dataDir, 'jobs')) : []);

describe('hostile requests', () => {
  it('malformed percent-encoding in a job id is a 400, not a 500', async () => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/%E0%A4%A'],
      ['GET', '/v1/jobs/%zz/result'],
      ['POST', '/v1/jobs/%/cancel'],
    ] as const) {
      const a = await send(method, path);
      expect([a.status, a.body.error?.code], `${method} ${path}`).toEqual([400, 'BAD_REQUEST']);
      expect(a.body.error?.message).toMatch(/percent-encoding/);
    }
  });

  it('control characters or an over-long idempotency key are a 400 and write nothing', async () => {
    for (const key of ['abc\u0000def', 'line\nbreak', 'bell\u0007', 'x'.repeat(201)]) {
      const a = await send('POST', '/v1/jobs', json, submitBody({ idempotencyKey: key }));
      expect([a.status, a.body.error?.code], JSON.stringify(key).slice(0, 20)).toEqual([400, 'BAD_REQUEST']);
    }
    const owner = await send('POST', '/v1/jobs', json, submitBody({ owner: 'tab\there' }));
    expect([owner.status, owner.body.error?.code]).toEqual([400, 'BAD_REQUEST']);
    expect(jobFolders()).toEqual([]);
    expect(server.service.health().queue).toEqual({ queued: 0, running: 0 });
  });

  it('an empty recipe is a 400 with a reason and writes nothing', async () => {
    for (const recipe of ['', '   ']) {
      const a = await send('POST', '/v1/jobs', json, submitBody({ recipe }));
      expect([a.status, a.body.error?.code]).toEqual([400, 'BAD_REQUEST']);
      expect(a.body.error?.message).toMatch(/recipe is empty/);
    }
    expect(jobFolders()).toEqual([]);
  });

  it('a body that is neither JSON nor an owned multipart submit is refused (a cross-origin form or text/plain POST)', async () => {
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const a = await send('POST', '/v1/jobs', { 'content-type': type }, submitBody());
      expect([a.status, a.body.error?.code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    // multipart is a submit's other documented type, but only with the x-asyrp-owner header, which no
    // page on another origin can send without a preflight; a cancel takes no multipart at all.
    const form = await send('POST', '/v1/jobs', { 'content-type': 'multipart/form-data; boundary=x' }, submitBody());
    expect([form.status, form.body.error?.code, form.body.error?.message]).toEqual([400, 'BAD_REQUEST', expect.stringMatching(/x-asyrp-owner/)]);
    const multipartCancel = await send('POST', '/v1/jobs/00000000-0000-0000-0000-000000000000/cancel', { 'content-type': 'multipart/form-data; boundary=x' }, 'x');
    expect([multipartCancel.status, multipartCancel.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const untyped = await send('POST', '/v1/jobs', {}, submitBody());
    expect([untyped.status, untyped.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const cancel = await send('POST', '/v1/jobs/00000000-0000-0000-0000-000000000000/cancel', { 'content-type': 'text/plain' }, 'x');
    expect([cancel.status, cancel.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(jobFolders()).toEqual([]);
    // JSON with parameters is JSON; a cancel without a body needs no type.
    const ok = await send('POST', '/v1/jobs', { 'content-type': 'Application/JSON; charset=utf-8' }, submitBody());
    expect(ok.status).toBe(202);
    const cancelled = await send('POST', `/v1/jobs/${ok.body.id as string}/cancel`);
    expect(cancelled.status).toBe(200);
  });

  it('a Host that is neither loopback, the configured host nor in engine.allowedHosts is a 421', async () => {
    for (const host of ['evil.example', 'evil.example:7860', 'localhost.evil.example', '10.0.0.1']) {
      const a = await send('GET', '/v1/health', { host });
      expect([a.status, a.body.error?.code], host).toEqual([421, 'MISDIRECTED_REQUEST']);
      const s = await send('POST', '/v1/jobs', { host, ...json }, submitBody());
      expect(s.status, host).toBe(421);
    }
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, '127.1.2.3', `[::1]:${port}`, 'engine.internal', `ENGINE.internal:${port}`]) {
      expect((await send('GET', '/v1/health', { host })).status, host).toBe(200);
    }
  });

  it('an engine on a wildcard address answers to that address (its own clients use it) and to allowedHosts', () => {
    const names = allowedHostNames('0.0.0.0', ['engine', '[fd00::1]']);
    const asked = (host: string) => () => checkHost({ headers: { host } } as IncomingMessage, names);
    for (const host of ['0.0.0.0:7860', 'engine:7860', 'ENGINE', '[fd00::1]:7860', 'localhost']) expect(asked(host), host).not.toThrow();
    for (const host of ['evil.example', 'engine.evil.example', '', '[fd00::2]']) expect(asked(host), host).toThrow(/does not answer/);
  });

  it('a body over the limit is refused before it is read (413), declared or chunked', async () => {
    // Declared: the answer comes back though not one byte of the body was sent.
    const declared = await send('POST', '/v1/jobs', { ...json, 'content-length': 1_000_000_000 }, null);
    expect([declared.status, declared.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // Chunked, no length: refused once it passes the limit (~26.7 MB for 20 MB images), not at the end.
    let sent = 0;
    const endless = async function* () {
      const chunk = Buffer.alloc(1 << 20, 0x20);
      for (let i = 0; i < 200; i++) {
        sent += chunk.length;
        yield chunk;
      }
    };
    const chunked = await send('POST', '/v1/jobs', { ...json, 'transfer-encoding': 'chunked' }, endless);
    expect([chunked.status, chunked.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(sent).toBeLessThan(200 << 20);
    expect((await send('GET', '/v1/health')).status).toBe(200);
  });

  it('deeply nested JSON is refused while it is read, and the engine keeps answering', async () => {
    const deep = '['.repeat(5_000_000);
    const [a, health] = await Promise.all([send('POST', '/v1/jobs', json, deep), send('GET', '/v1/health')]);
    expect([a.status, a.body.error?.code]).toEqual([400, 'BAD_REQUEST']);
    expect(a.body.error?.message).toMatch(/nests deeper than 32/);
    expect(health.status).toBe(200);
    // Brackets inside strings are text, not nesting.
    const inString = await send('POST', '/v1/jobs', json, submitBody({ labels: { note: '[[[[{{{{'.repeat(100) } }));
    expect(inString.status).toBe(400);
    expect(inString.body.error?.message).toMatch(/labels/);
  });
});
