/**
 * Submits as multipart/form-data (multipart-body.ts) over real HTTP: EngineClient's encoding round-trips
 * every field and the image's exact bytes, and every malformed body gets a typed 4xx and leaves nothing
 * on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSubmit, type SubmitWithImage } from '../../src/engine/client/engine-client.js';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { MAX_PART_HEADER_BYTES, parseMultipartSubmit } from '../../src/engine/service/multipart-body.js';
import type { EngineClient } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

let server: EngineServer;
let client: EngineClient;
let dataDir: string;
const image = Buffer.from(sampleImageBase64(), 'base64');

beforeAll(async () => {
  ({ server, client, dataDir } = await startTestEngine());
});
afterAll(async () => server?.close());

interface Answer {
  readonly status: number;
  readonly body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** A POST on a connection of its own (one that declared more body than it sent is not reused). */
function post(headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/jobs', agent: false, headers: { 'content-length': body.length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const inputs = () => (existsSync(join(dataDir, 'jobs')) ? readdirSync(join(dataDir, 'jobs')).filter((n) => n.endsWith('.input')) : []);

/** A multipart body built by hand from [headers, content] parts. */
function multipart(boundary: string, parts: [string, string | Buffer][], close = true): Buffer {
  const out: Buffer[] = [];
  for (const [headers, content] of parts) out.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n'));
  if (close) out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}
const field = (name: string, value: string): [string, string] => [`Content-Disposition: form-data; name="${name}"`, value];
const file = (bytes: Buffer): [string, Buffer] => ['Content-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png', bytes];
const owned = (boundary: string) => ({ 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-asyrp-owner': 'm' });

describe('multipart submits', () => {
  it("EngineClient's encoding carries every field and the image's exact bytes, even bytes that look like a boundary", () => {
    const tricky = Buffer.concat([image, Buffer.from('\r\n--asyrp-\r\n--\r\n\r\n')]);
    const req: SubmitWithImage = { image: tricky, recipe: 'shift steps:4', owner: 'Ünï "q"', idempotencyKey: 'k\r\n1', model: 'analytic', kind: 'sweep', strengths: [0.5, 1], size: 48, faceIndex: 2, labels: { message: '12\r\n34' } };
    const { body, headers } = encodeSubmit(req);
    const boundary = /boundary=(.+)$/.exec(headers['content-type']!)![1]!;
    const { image: _image, ...fields } = req;
    const parsed = parseMultipartSubmit(body, boundary);
    expect({ ...parsed, imageBytes: undefined }).toEqual({ ...fields, imageBytes: undefined });
    expect(Buffer.compare(Buffer.from(parsed.imageBytes!), tricky)).toBe(0);
  });

  it('a submit from EngineClient is accepted, its input stored byte for byte, and it runs', async () => {
    const job = await client.submit({ image, recipe: 'shift steps:4', owner: 'a', labels: { message: '7' } });
    expect(job.state).toBe('queued');
    expect(Buffer.compare(readFileSync(join(dataDir, 'jobs', `${job.id}.input`)), image)).toBe(0);
    const done = await client.wait(job.id);
    expect([done.state, done.labels]).toEqual(['done', { message: '7' }]);
  });

  it('a hand-made body with a quoted boundary, a preamble and an epilogue is read as well', async () => {
    const body = Buffer.concat([Buffer.from('preamble, ignored\r\n'), multipart('x y', [field('owner', 'm'), field('recipe', 'shift steps:4'), file(image)]), Buffer.from('epilogue')]);
    const a = await post({ ...owned('x y'), 'content-type': 'multipart/form-data; boundary="x y"' }, body);
    expect([a.status, a.body.state]).toEqual([202, 'queued']);
    await client.wait(a.body.id as string);
  });

  it('refuses every malformed body with a typed 4xx and writes nothing', async () => {
    const before = inputs().length;
    const b = 'bnd';
    const ok: [string, string | Buffer][] = [field('owner', 'm'), field('recipe', 'shift')];
    const cases: [string, Record<string, string>, Buffer, number, string][] = [
      ['no boundary', { ...owned(b), 'content-type': 'multipart/form-data' }, multipart(b, [...ok, file(image)]), 400, 'BAD_REQUEST'],
      ['no owner header', { 'content-type': `multipart/form-data; boundary=${b}` }, multipart(b, [...ok, file(image)]), 400, 'BAD_REQUEST'],
      ['a boundary that never occurs', owned('other'), multipart(b, [...ok, file(image)]), 400, 'BAD_REQUEST'],
      ['no closing boundary', owned(b), multipart(b, [...ok, file(image)], false), 400, 'BAD_REQUEST'],
      ['a part twice', owned(b), multipart(b, [...ok, field('recipe', 'smile'), file(image)]), 400, 'BAD_REQUEST'],
      ['an unknown part', owned(b), multipart(b, [...ok, field('imageBase64', 'QUJD'), file(image)]), 400, 'BAD_REQUEST'],
      ['a part with no name', owned(b), multipart(b, [...ok, ['Content-Disposition: form-data', 'x'], file(image)]), 400, 'BAD_REQUEST'],
      ['a part that is not form-data', owned(b), multipart(b, [...ok, ['Content-Disposition: attachment; name="kind"', 'edit'], file(image)]), 400, 'BAD_REQUEST'],
      ['part headers over the limit', owned(b), multipart(b, [...ok, [`Content-Disposition: form-data; name="model"\r\nX-Pad: ${'p'.repeat(MAX_PART_HEADER_BYTES)}`, 'analytic'], file(image)]), 400, 'BAD_REQUEST'],
      ['strengths that are not JSON', owned(b), multipart(b, [...ok, field('kind', 'sweep'), field('strengths', '0.5,1'), file(image)]), 400, 'BAD_REQUEST'],
      ['a size that is not a number', owned(b), multipart(b, [...ok, field('size', 'big'), file(image)]), 400, 'BAD_REQUEST'],
      ['owner in the body unlike the header', owned(b), multipart(b, [field('owner', 'other'), field('recipe', 'shift'), file(image)]), 400, 'BAD_REQUEST'],
      ['no image part', owned(b), multipart(b, ok), 422, 'IMAGE_EMPTY'],
      // Declared larger than the engine takes: refused before a byte is read.
      ['a body over the limit', { ...owned(b), 'content-length': String(1 << 30) }, multipart(b, [...ok, file(image)]), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [name, headers, body, status, code] of cases) {
      const a = await post(headers, body);
      expect([a.status, a.body.error?.code], name).toEqual([status, code]);
    }
    expect(inputs().length).toBe(before);
    // A urlencoded form (what any web page may post) is still refused as before.
    const form = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-asyrp-owner': 'm' }, Buffer.from('owner=m&recipe=shift'));
    expect([form.status, form.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });
});
