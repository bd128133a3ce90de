/** Continuous batching gives each job the result it gets alone; round robin keeps owners fair. */
import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { EngineClientError, type EngineClient } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

const servers: EngineServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const image = sampleImageBase64();

async function start(engine: Record<string, unknown>) {
  const s = await startTestEngine(engine);
  servers.push(s.server);
  return s;
}

async function pixels(client: EngineClient, id: string): Promise<Uint8Array> {
  const { data } = await sharp(await client.result(id)).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

describe('scheduling', () => {
  it('a job batched with others (joining and leaving at different steps) gives the image it gives alone', async () => {
    const recipes = ['shift:0.7 steps:20 seed:1 t_boost:200', 'global:-1 steps:14 seed:2', 'shift:1.5 steps:9 t_edit:300', 'steps:11'];
    const batched = await start({ maxBatch: 8, maxRunningPerOwner: 8 });
    const jobs = await Promise.all(recipes.map((recipe, i) => batched.client.submit({ imageBase64: image, recipe, owner: `p${i}` })));
    await Promise.all(jobs.map((j) => batched.client.wait(j.id)));
    const mean = Number((await batched.server.service.renderMetrics()).match(/asyrp_batch_size_mean ([\d.]+)/)![1]);
    expect(mean).toBeGreaterThan(1.5);
    const together = await Promise.all(jobs.map((j) => pixels(batched.client, j.id)));

    const alone = await start({ maxBatch: 1 });
    for (const [i, recipe] of recipes.entries()) {
      const job = await alone.client.submit({ imageBase64: image, recipe, owner: 'solo' });
      expect((await alone.client.wait(job.id)).state).toBe('done');
      const px = await pixels(alone.client, job.id);
      // Float results agree within 1e-4 (tested on tensors in unet-session.test.ts); after rounding to
      // 8 bits at most a rare pixel can land one level apart.
      let worst = 0;
      px.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - together[i]![k]!))));
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('an owner with 50 queued jobs cannot starve an owner with 1', async () => {
    const { client } = await start({ maxBatch: 2, maxRunningPerOwner: 1, maxQueuedPerOwner: 60, maxQueued: 100 });
    const heavy: string[] = [];
    for (let i = 0; i < 50; i++) heavy.push((await client.submit({ imageBase64: image, recipe: `steps:30 seed:${i}`, model: 'tiny-unet', owner: 'heavy' })).id);
    const submittedAt = new Date().toISOString();
    const light = await client.submit({ imageBase64: image, recipe: 'steps:30', model: 'tiny-unet', owner: 'light' });
    // Round robin: at most one heavy job is served before the light owner's, however many are queued.
    expect(light.position).toBeLessThanOrEqual(2);
    const lightDone = await client.wait(light.id);
    expect(lightDone.state).toBe('done');
    const heavyStatus = await Promise.all(heavy.map((id) => client.status(id)));
    expect(heavyStatus.filter((s) => s.state === 'queued').length).toBeGreaterThan(10);
    const startedBetween = heavyStatus.filter((s) => s.startedAt !== null && s.startedAt > submittedAt && s.startedAt < lightDone.startedAt!);
    expect(startedBetween.length).toBeLessThanOrEqual(1);
    await Promise.all(heavy.map((id) => client.cancel(id)));
  }, 60_000);

  it('answers BUSY with a retry hint when the queue is full, and limits each owner', async () => {
    const { client } = await start({ maxBatch: 1, maxRunningPerOwner: 1, maxQueuedPerOwner: 3, maxQueued: 4 });
    const ids: unknown[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.submit({ imageBase64: image, recipe: `steps:400 seed:${i}`, model: 'tiny-unet', owner: 'x' })).id);
    let limited: EngineClientError | undefined;
    try {
      await client.submit({ imageBase64: image, recipe: 'steps:5', model: 'tiny-unet', owner: 'x' });
    } catch (e) {
      limited = e as EngineClientError;
    }
    expect([limited?.code, limited?.status]).toEqual(['OWNER_LIMIT', 429]);
    for (let i = 0; i < 4; i++) ids.push(await client.submit({ imageBase64: image, recipe: `steps:400 seed:${i}`, model: 'tiny-unet', owner: `y${i}` }).then((r) => r.id, (e: unknown) => e));
    const busy = ids.find((x) => x instanceof EngineClientError) as EngineClientError;
    expect(busy?.code).toBe('BUSY');
    expect(busy.status).toBe(503);
    expect(busy.retryAfterMs).toBeGreaterThan(0);
    await Promise.all(ids.filter((x) => typeof x === 'string').map((id) => client.cancel(id as string)));
  });

  it('a sweep returns a grid and an animation', async () => {
    const { client } = await start({ maxBatch: 8 });
    const job = await client.submit({ imageBase64: image, recipe: 'shift steps:8', owner: 's', kind: 'sweep', strengths: [0, 0.5, 1] });
    const s = await client.wait(job.id);
    expect(s.results).toEqual(expect.arrayContaining(['grid', 'animation', 'after']));
    expect(s.total).toBe(7 + 3 * 8);
    const grid = await sharp(await client.result(job.id, 'grid')).metadata();
    expect([grid.width, grid.height]).toEqual([16 * 4 + 4 * 3, 16]);
    const anim = await sharp(await client.result(job.id, 'animation'), { pages: -1 }).metadata();
    expect([anim.format, anim.pages]).toEqual(['webp', 4]);
  });
});
