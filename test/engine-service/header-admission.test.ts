/**
 * Admission from a submit's headers (x-asyrp-owner, x-asyrp-idempotency-key), over real HTTP: an owner
 * at their limit is refused, and a repeated key answered, before a byte of the body is sent; an admitted
 * submit holds its place while its body is still on the way; the headers must agree with the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type ClientRequest } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import type { EngineClient } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

let server: EngineServer;
let client: EngineClient;
let dataDir: string;
const image = sampleImageBase64();
const jobBody = (owner: string, extra: Record<string, unknown> = {}) => JSON.stringify({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner, ...extra });
// What a submit writes: its job's input (the folder comes when the job ends, whenever that is).
const jobInputs = () => (existsSync(join(dataDir, 'jobs')) ? readdirSync(join(dataDir, 'jobs')).filter((n) => n.endsWith('.input')) : []);

beforeAll(async () => {
  ({ server, client, dataDir } = await startTestEngine({ maxQueuedPerOwner: 1, maxRunningPerOwner: 1 }));
});
afterAll(async () => server?.close());

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: { id?: string; duplicate?: boolean; error?: { code: string; message: string } };
}

/**
 * A submit whose headers go out at once and whose body waits until `sendBody` is called (never, for a
 * refusal that must come before it): the answer resolves whenever the engine sends it.
 */
function openSubmit(headers: Record<string, string>, body: string): { answer: Promise<Answer>; sendBody: () => void; req: ClientRequest } {
  let req!: ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = request(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] });
          req.destroy();
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(e.code ?? '') ? undefined : reject(e)));
    req.flushHeaders();
  });
  return { answer, sendBody: () => req.end(body), req };
}

describe('admission from the headers', () => {
  it('refuses an owner at their limit, and answers a repeated key, before the body is sent', async () => {
    const first = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'anna', idempotencyKey: 'anna-1' });
    const inputs = jobInputs().length;

    // The body is never sent: only an answer from the headers can arrive.
    const refused = await openSubmit({ 'x-asyrp-owner': 'anna' }, jobBody('anna')).answer;
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'OWNER_LIMIT']);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);

    const repeat = await openSubmit({ 'x-asyrp-owner': 'anna', 'x-asyrp-idempotency-key': 'anna-1' }, jobBody('anna', { idempotencyKey: 'anna-1' })).answer;
    expect([repeat.status, repeat.body.id, repeat.body.duplicate]).toEqual([200, first.id, true]);
    expect(jobInputs().length).toBe(inputs);
    await client.cancel(first.id);
  });

  it('holds the place of an admitted submit while its body is on the way', async () => {
    const slow = openSubmit({ 'x-asyrp-owner': 'bo' }, jobBody('bo'));
    // Until the engine has taken those headers, the owner has room (any place taken here is given back).
    for (;;) {
      try {
        const probe = server.service.reserveSubmit({ owner: 'bo', idempotencyKey: null });
        if ('ticket' in probe) probe.ticket.release();
      } catch (e) {
        expect((e as { code?: string }).code).toBe('OWNER_LIMIT');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const secondSubmit = openSubmit({ 'x-asyrp-owner': 'bo' }, jobBody('bo'));
    secondSubmit.sendBody();
    const second = await secondSubmit.answer;
    expect(second.status).toBe(429);
    expect(second.body.error?.code).toBe('OWNER_LIMIT');
    slow.sendBody();
    const accepted = await slow.answer;
    expect(accepted.status).toBe(202);
    await client.cancel(accepted.body.id!);
  });

  it('gives the place back when the client goes away before its body is complete', async () => {
    const gone = openSubmit({ 'x-asyrp-owner': 'eve' }, jobBody('eve'));
    gone.answer.catch(() => undefined);
    gone.req.write(jobBody('eve').slice(0, 1000));
    // Wait until the engine holds eve's place, then hang up mid-body.
    for (;;) {
      try {
        const probe = server.service.reserveSubmit({ owner: 'eve', idempotencyKey: null });
        if ('ticket' in probe) probe.ticket.release();
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    gone.req.destroy();
    // Polled until the engine notices the hang-up; then eve has room again.
    for (;;) {
      try {
        const probe = server.service.reserveSubmit({ owner: 'eve', idempotencyKey: null });
        if ('ticket' in probe) probe.ticket.release();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const ok = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'eve' });
    expect(ok.state).toBe('queued');
    await client.cancel(ok.id);
  });

  it('refuses headers that disagree with the body or do not decode, and writes nothing', async () => {
    const inputs = jobInputs().length;
    const cases: [Record<string, string>, string][] = [
      [{ 'x-asyrp-owner': 'carl' }, jobBody('dora')],
      [{ 'x-asyrp-owner': 'carl', 'x-asyrp-idempotency-key': 'k1' }, jobBody('carl', { idempotencyKey: 'k2' })],
      [{ 'x-asyrp-owner': 'carl', 'x-asyrp-idempotency-key': 'k3' }, jobBody('carl')],
      [{ 'x-asyrp-owner': '%E0%A4%A' }, jobBody('carl')],
      [{ 'x-asyrp-owner': 'carl%00' }, jobBody('carl\u0000')],
      [{ 'x-asyrp-idempotency-key': 'k4' }, jobBody('carl', { idempotencyKey: 'k4' })],
    ];
    for (const [headers, body] of cases) {
      const s = openSubmit(headers, body);
      s.sendBody();
      const a = await s.answer;
      expect([a.status, a.body.error?.code], JSON.stringify(headers)).toEqual([400, 'BAD_REQUEST']);
    }
    expect(jobInputs().length).toBe(inputs);
    // Every place taken above was given back: carl may still submit.
    const ok = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'carl' });
    expect(ok.state).toBe('queued');
    await client.cancel(ok.id);
  });

  it('with Expect: 100-continue the body is asked for only when the submit is admitted', async () => {
    const running = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'fay' });
    const expectSubmit = (owner: string) =>
      new Promise<{ continued: boolean; status: number; code?: string }>((resolve, reject) => {
        const body = jobBody(owner);
        let continued = false;
        const req = request(
          { host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', 'x-asyrp-owner': owner } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              resolve({ continued, status: res.statusCode!, code: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body']).error?.code });
              req.destroy();
            });
          },
        );
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    // fay is at her limit: the refusal comes without "100 Continue", so the body is never sent.
    expect(await expectSubmit('fay')).toEqual({ continued: false, status: 429, code: 'OWNER_LIMIT' });
    const admitted = await expectSubmit('gus');
    expect([admitted.continued, admitted.status]).toEqual([true, 202]);
    await client.cancel(running.id);
  });

  it('the client names owner and key in the headers, percent-encoded', async () => {
    const owner = 'slack:T1:Ü ser';
    const a = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner, idempotencyKey: 'ü-1' });
    const again = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner, idempotencyKey: 'ü-1' });
    expect([again.id, again.duplicate]).toEqual([a.id, true]);
    expect((await client.status(a.id)).owner).toBe(owner);
    await client.cancel(a.id);
  });
});
