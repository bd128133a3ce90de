/**
 * The engine client against an API node with a real worker role in this process (real model, real
 * BullMQ, real redis-server): the bots' view of the scale-out. An edit runs end to end with progress and
 * previews over the API node's event stream, its results come from the shared store, a re-edit skips the
 * inversion, and a running job is cancelled through the API node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { startClusterApi, type ClusterApiServer } from '../../src/engine/cluster/start-cluster-api.js';
import { startClusterWorker, type ClusterWorkerProcess } from '../../src/engine/cluster/start-cluster-worker.js';
import { engineConfig, sampleImageBase64 } from '../helpers/engine.js';
import { tempDir } from '../helpers/paths.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let redisServer: RedisServer;
let api: ClusterApiServer;
let worker: ClusterWorkerProcess;
let client: EngineClient;

const config = (engine: Record<string, unknown> = {}) =>
  engineConfig(tempDir('asyrp-api-worker-'), { models: ['analytic'], maxBatch: 4, previewEvery: 2, queue: 'redis', cluster: { prefix: 'e2e', lockDurationMs: 2000, heartbeatMs: 500, progressMinIntervalMs: 20 }, ...engine });

beforeAll(async () => {
  redisServer = await startRedisServer();
  worker = await startClusterWorker(config(), { redisUrl: redisServer.url, workerId: 'w-e2e', withHttp: false });
  api = await startClusterApi(config({ role: 'api' }), { redisUrl: redisServer.url });
  client = new EngineClient({ baseUrl: api.url });
});

afterAll(async () => {
  await api?.close();
  await worker?.close();
  await redisServer?.stop();
});

describe('API node with a worker', () => {
  it('runs an edit end to end: progress and previews on the event stream, results from the shared store, a re-edit from the cache', async () => {
    expect((await client.models()).models.map((m) => m.id)).toEqual(['analytic']);
    const image = sampleImageBase64();
    const { id, state } = await client.submit({ imageBase64: image, recipe: 'shift:0.8 steps:12', owner: 'e2e-user', kind: 'compare' });
    expect(state).toBe('queued');
    const phases = new Set<string>();
    let previews = 0;
    let lastStep = 0;
    let stepsInOrder = true;
    const ids = new Set<string>();
    for await (const e of client.events(id, { preview: true })) {
      ids.add(e.status.id);
      phases.add(e.status.phase);
      if (e.previewBase64) previews++;
      if (e.status.step < lastStep) stepsInOrder = false;
      lastStep = e.status.step;
    }
    const final = await client.status(id);
    expect(final).toMatchObject({ id, state: 'done', phase: 'finished', owner: 'e2e-user', model: 'analytic', cacheHit: false, error: null });
    expect(final.step).toBe(final.total);
    expect(stepsInOrder).toBe(true);
    expect([...ids]).toEqual([id]);
    expect(phases.has('inversion')).toBe(true);
    expect(previews).toBeGreaterThan(0);
    const compare = await sharp(Buffer.from(await client.result(id, 'compare'))).metadata();
    expect(compare.format).toBe('png');
    expect(compare.width).toBeGreaterThan(compare.height!);

    const again = await client.submit({ imageBase64: image, recipe: 'shift:-0.5 steps:12', owner: 'e2e-user' });
    const second = await client.wait(again.id);
    expect(second).toMatchObject({ state: 'done', cacheHit: true });
    expect(second.total).toBeLessThan(final.total);
  });

  it('cancels a running job through the API node', async () => {
    const { id } = await client.submit({ imageBase64: sampleImageBase64(), recipe: 'shift:0.5 steps:1000', owner: 'canceller' });
    for await (const e of client.events(id)) if (e.status.state === 'running' && e.status.step > 0) break;
    const answer = await client.cancel(id);
    expect(answer.state, JSON.stringify(answer.error)).toMatch(/running|cancelled/);
    expect(await client.wait(id)).toMatchObject({ state: 'cancelled' });
    expect((await client.health()).queue).toEqual({ queued: 0, running: 0 });
  });

  it('after a Redis restart without persistence, the worker registers again and edits run as before', async () => {
    await redisServer.restart();
    let models: string[] = [];
    for (let i = 0; i < 100 && !models.length; i++) {
      models = await client.models().then((r) => r.models.map((m) => m.id), () => []);
      if (!models.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(models).toEqual(['analytic']);
    const { id } = await client.submit({ imageBase64: sampleImageBase64(), recipe: 'shift:0.3 steps:8', owner: 'after-restart' });
    expect(await client.wait(id)).toMatchObject({ state: 'done', cacheHit: false });
  });
});
