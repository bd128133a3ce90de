/** The engine API over real HTTP on loopback, with the real service and the analytic / tiny models. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { startEngineServer } from '../../src/engine/service/start-engine-server.js';
import { repoRoot, sharedFixturePresent, sharedFixtures, tempDir, testModels } from '../helpers/paths.js';
import type { JobEvent, JobStatus } from '../../src/engine/client/api-types.js';
import { EngineClient, EngineClientError } from '../../src/engine/client/engine-client.js';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

let server: EngineServer;
let client: EngineClient;
const image = sampleImageBase64();

beforeAll(async () => {
  ({ server, client } = await startTestEngine({ maxBatch: 8, maxQueuedPerOwner: 60, maxRunningPerOwner: 8 }));
});
afterAll(async () => server?.close());

async function failure(p: Promise<unknown>): Promise<EngineClientError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineClientError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

async function collect(id: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const e of client.events(id)) events.push(e);
  return events;
}

describe('engine API', () => {
  it('reports health and models with their directions', async () => {
    const h = await client.health();
    expect(h).toMatchObject({ status: 'ok', models: ['analytic', 'tiny-unet'] });
    const { models } = await client.models();
    const analytic = models.find((m) => m.id === 'analytic')!;
    expect(analytic.isDefault).toBe(true);
    expect(analytic.directions.map((d) => d.name)).toEqual(['global', 'shift']);
  });

  it('runs an edit: submit → progress events through every phase → PNG results', async () => {
    const sub = await client.submit({ imageBase64: image, recipe: 'shift:0.8 steps:12 t_boost:300', owner: 'u1', kind: 'compare' });
    expect(sub).toMatchObject({ state: 'queued', duplicate: false });
    const events = await collect(sub.id);
    const last = events.at(-1)!.status;
    expect(last.state).toBe('done');
    expect(last.results).toEqual(expect.arrayContaining(['after', 'before', 'compare']));
    const phases = new Set(events.map((e) => e.status.phase));
    for (const p of ['inversion', 'editing', 'denoising', 'boosting']) expect(phases).toContain(p);
    const steps = events.map((e) => e.status.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(last.step).toBe(last.total);
    expect(last.total).toBe(11 + 12);
    const after = await sharp(await client.result(sub.id)).metadata();
    expect([after.format, after.width]).toEqual(['png', 16]);
    const compare = await sharp(await client.result(sub.id, 'compare')).metadata();
    expect(compare.width).toBe(36);
    expect((await client.status(sub.id)).state).toBe('done');

    // ?display=512: the 16 px result as every model pixel a sharp 32×32 square (nearest neighbour, ×32).
    const small = await sharp(await client.result(sub.id)).raw().toBuffer({ resolveWithObject: true });
    const big = await sharp(await client.result(sub.id, 'after', { display: 512 })).raw().toBuffer({ resolveWithObject: true });
    expect([big.info.width, big.info.height]).toEqual([512, 512]);
    const px = (img: typeof small, x: number, y: number) => [...img.data.subarray((y * img.info.width + x) * img.info.channels, (y * img.info.width + x) * img.info.channels + 3)];
    for (const [x, y] of [[0, 0], [5, 9], [15, 15], [7, 2]] as const) {
      expect(px(big, x * 32, y * 32)).toEqual(px(small, x, y));
      expect(px(big, x * 32 + 31, y * 32 + 31)).toEqual(px(small, x, y));
    }
    // before | after (36 px wide) by the whole factor that reaches 512: ×15.
    const wide = await sharp(await client.result(sub.id, 'compare', { display: 512 })).metadata();
    expect([wide.width, wide.height]).toEqual([540, 240]);
    // Already big enough: the model's own bytes.
    expect(Buffer.from(await client.result(sub.id, 'after', { display: 16 })).equals(Buffer.from(await client.result(sub.id)))).toBe(true);
    const badDisplay = await fetch(`${server.url}/v1/jobs/${sub.id}/result?display=big`);
    expect(badDisplay.status).toBe(400);
    expect(((await badDisplay.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('sends preview PNGs of the predicted x0 when asked', async () => {
    // Long enough (tiny UNet, 300 steps) that the stream is open well before generation starts.
    const sub = await client.submit({ imageBase64: image, recipe: 'steps:300 seed:9', model: 'tiny-unet', owner: 'u9' });
    const previews: string[] = [];
    for await (const e of client.events(sub.id, { preview: true })) if (e.previewBase64) previews.push(e.previewBase64);
    expect(previews.length).toBeGreaterThan(0);
    const meta = await sharp(Buffer.from(previews[0]!, 'base64')).metadata();
    expect([meta.format, meta.width]).toEqual(['png', 16]);
  });

  it('validates before queueing, with typed codes and HTTP statuses', async () => {
    const bad = await failure(client.submit({ imageBase64: image, recipe: 'smiel', owner: 'u1' }));
    expect([bad.code, bad.status]).toEqual(['RECIPE_UNKNOWN_DIRECTION', 422]);
    expect(bad.message).toContain('Directions: global, shift');
    const text = await failure(client.submit({ imageBase64: Buffer.from('hello').toString('base64'), recipe: 'shift', owner: 'u1' }));
    expect([text.code, text.status]).toEqual(['IMAGE_UNSUPPORTED_FORMAT', 415]);
    const model = await failure(client.submit({ imageBase64: image, recipe: 'shift', owner: 'u1', model: 'nope' }));
    expect([model.code, model.status]).toEqual(['MODEL_NOT_FOUND', 404]);
    const empty = await failure(client.submit({ imageBase64: '', recipe: 'shift', owner: 'u1' }));
    expect(empty.code).toBe('IMAGE_EMPTY');
    const kind = await failure(client.submit({ imageBase64: image, recipe: 'shift', owner: 'u1', kind: 'paint' as never }));
    expect([kind.code, kind.status]).toEqual(['BAD_REQUEST', 400]);
    const missing = await failure(client.status('00000000-0000-0000-0000-000000000000'));
    expect([missing.code, missing.status]).toEqual(['NOT_FOUND', 404]);
    expect((await client.health()).queue.queued).toBe(0);
  });

  it('returns the same job for the same idempotency key', async () => {
    const a = await client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'u2', idempotencyKey: 'interaction-123' });
    const b = await client.submit({ imageBase64: image, recipe: 'global steps:9', owner: 'u2', idempotencyKey: 'interaction-123' });
    expect(b.id).toBe(a.id);
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    await client.wait(a.id);
  });

  it('skips the inversion for a re-edit of the same image, and says so', async () => {
    const first = await client.submit({ imageBase64: image, recipe: 'shift steps:10 seed:1', owner: 'u3' });
    const s1 = await client.wait(first.id);
    const second = await client.submit({ imageBase64: image, recipe: 'global:0.5 steps:10 seed:1', owner: 'u3' });
    const s2 = await client.wait(second.id);
    expect([s1.cacheHit, s2.cacheHit]).toEqual([false, true]);
    expect(s2.total).toBe(10);
    expect(await server.service.renderMetrics()).toMatch(/asyrp_inversion_cache_hits_total [1-9]/);
  });

  it('cancels a queued job and a running one', async () => {
    const jobs = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submit({ imageBase64: image, recipe: `steps:200 seed:${i}`, model: 'tiny-unet', owner: `c${i}` })));
    await new Promise((r) => setTimeout(r, 150));
    const running = (await Promise.all(jobs.map((j) => client.status(j.id)))).filter((s) => s.state === 'running');
    expect(running.length).toBeGreaterThan(0);
    const queued = (await Promise.all(jobs.map((j) => client.status(j.id)))).find((s) => s.state === 'queued')!;
    expect((await client.cancel(queued.id)).state).toBe('cancelled');
    await client.cancel(running[0]!.id);
    expect((await client.wait(running[0]!.id)).state).toBe('cancelled');
    await Promise.all(jobs.map((j) => client.cancel(j.id)));
    const final = await Promise.all(jobs.map((j) => client.wait(j.id)));
    expect(final.every((s: JobStatus) => s.state === 'cancelled' || s.state === 'done')).toBe(true);
    const notReady = await failure(client.result(queued.id));
    expect(notReady.code).toBe('NOT_READY');
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP asyrp_queue_depth/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total [\d.e-]+$/m);
    expect(text).toMatch(/asyrp_jobs_finished_total\{state="done"\} [1-9]/);
    expect(text).toMatch(/asyrp_step_seconds_count [1-9]/);
    // Every stage of the accepted submits above was timed.
    for (const stage of ['body', 'check', 'input', 'commit']) expect(text).toMatch(new RegExp(`asyrp_submit_stage_seconds_count\\{stage="${stage}"\\} [1-9]`));
  });
});

describe('face models over the API', () => {
  it('answers NO_FACE (422) for a photo without a face, before queueing', async () => {
    const dir = tempDir('asyrp-faces-api-');
    cpSync(join(testModels, 'tiny-unet'), join(dir, 'models', 'tiny-face'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'models', 'tiny-face', 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'models', 'tiny-face', 'model.json'), JSON.stringify({ ...manifest, id: 'tiny-face', preprocess: 'align-face' }));
    const s = await startEngineServer(loadConfig({ root: repoRoot, env: {}, overrides: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), logLevel: 'warn', storage: { path: join(dir, 'a.db') }, engine: { port: 0 } } }));
    try {
      const c = new EngineClient({ baseUrl: s.url });
      const err = await failure(c.submit({ imageBase64: image, recipe: 'steps:6', owner: 'f' }));
      expect([err.code, err.status]).toEqual(['NO_FACE', 422]);
      expect(err.message).toMatch(/no face found/);
      expect((await c.health()).queue.queued).toBe(0);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('face models over the API, with a real photo', () => {
  const photos = join(sharedFixtures, 'asyrp-official', 'photos', 'celeba');
  it.skipIf(!sharedFixturePresent(photos, 'face edit API test'))(`edits the chosen face and pastes it back into the whole photo (needs ${photos})`, async () => {
    const dir = tempDir('asyrp-faces-api-');
    cpSync(join(testModels, 'tiny-unet'), join(dir, 'models', 'tiny-face'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'models', 'tiny-face', 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'models', 'tiny-face', 'model.json'), JSON.stringify({ ...manifest, id: 'tiny-face', preprocess: 'align-face' }));
    // The photo on a larger grey canvas: everything outside the face must come back unchanged.
    const face = await sharp(join(photos, '000121.jpg')).resize(300, 300).png().toBuffer();
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#777777' } }).composite([{ input: face, left: 200, top: 100 }]).png().toBuffer();
    const s = await startEngineServer(loadConfig({ root: repoRoot, env: {}, overrides: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), logLevel: 'warn', storage: { path: join(dir, 'a.db') }, engine: { port: 0 } } }));
    try {
      const c = new EngineClient({ baseUrl: s.url });
      const job = await c.submit({ imageBase64: photo.toString('base64'), recipe: 'steps:6 t_boost:0', owner: 'f', kind: 'compare' });
      expect((await c.wait(job.id)).state).toBe('done');
      const after = await sharp(await c.result(job.id)).raw().toBuffer({ resolveWithObject: true });
      expect([after.info.width, after.info.height]).toEqual([640, 480]);
      const original = await sharp(photo).removeAlpha().raw().toBuffer();
      // Corners are far from the face: bit-identical. The face region changed (a random-weight UNet).
      for (const [x, y] of [[5, 5], [630, 5], [5, 470], [630, 470], [100, 240]]) {
        const k = (y! * 640 + x!) * 3;
        expect(Array.from(after.data.subarray(k, k + 3))).toEqual(Array.from(original.subarray(k, k + 3)));
      }
      let changed = 0;
      for (let y = 150; y < 350; y++) for (let x = 250; x < 450; x++) if (after.data[(y * 640 + x) * 3] !== original[(y * 640 + x) * 3]) changed++;
      expect(changed).toBeGreaterThan(1000);
      const cmp = await sharp(await c.result(job.id, 'compare')).metadata();
      expect([cmp.width, cmp.height]).toEqual([640 * 2 + 4, 480]);
      const noSuchFace = await failure(c.submit({ imageBase64: photo.toString('base64'), recipe: 'steps:6', owner: 'f', faceIndex: 3 }));
      expect(noSuchFace.code).toBe('NO_FACE');
    } finally {
      await s.close();
    }
  }, 120_000);
});
