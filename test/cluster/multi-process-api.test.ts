/**
 * The scale-out with real processes, API side: two API nodes and worker processes
 * (test/helpers/cluster-child.ts) on a real redis-server, the engine client over HTTP. A re-edit that
 * lands on the other worker still skips the inversion; an idempotency key gives one job whichever node
 * it reaches; an API node killed -9 and started again loses nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killClusterChildren, kill9, sigterm, startClusterChild, type ClusterChild } from '../helpers/cluster-processes.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PREFIX = 'mpa';
// inline: no inference thread to start per worker; the analytic model's UNet calls are far shorter than a lock renewal.
const ENGINE = { models: ['analytic'], inference: 'inline', maxBatch: 4, maxQueuedPerOwner: 20, cluster: { prefix: PREFIX, lockDurationMs: 2000, heartbeatMs: 1000 } };
const image = sampleImageBase64();

let server: RedisServer;
let apiA: ClusterChild;
let apiB: ClusterChild;
let worker1: ClusterChild;

beforeAll(async () => {
  server = await startRedisServer();
  [apiA, apiB, worker1] = await Promise.all([startClusterChild('api', server.url, ENGINE), startClusterChild('api', server.url, ENGINE), startClusterChild('worker', server.url, ENGINE)]);
});

afterAll(async () => {
  killClusterChildren();
  await server?.stop();
});

describe('two API nodes, worker processes', () => {
  it('a re-edit of the same image on the other worker skips the inversion (shared cache)', async () => {
    const first = await apiA.client.wait((await apiA.client.submit({ imageBase64: image, recipe: 'shift:0.5 steps:10', owner: 'u1', model: 'analytic' })).id);
    expect(first).toMatchObject({ state: 'done', cacheHit: false });
    // Worker 1 leaves (SIGTERM drains it); only worker 2, whose local cache is empty, can take the re-edit.
    const worker2 = await startClusterChild('worker', server.url, ENGINE);
    await sigterm(worker1);
    const again = await apiB.client.wait((await apiB.client.submit({ imageBase64: image, recipe: 'shift:1.5 steps:10', owner: 'u1', model: 'analytic' })).id);
    expect(again).toMatchObject({ state: 'done', cacheHit: true });
    worker1 = worker2;
  });

  it('an idempotency key gives one job whichever API node it reaches', async () => {
    const req = { imageBase64: image, recipe: 'shift steps:6', owner: 'discord:g:u', model: 'analytic', idempotencyKey: 'interaction-77' };
    const [a, b] = await Promise.all([apiA.client.submit(req), apiB.client.submit(req)]);
    expect(a.id).toBe(b.id);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    const again = await apiB.client.submit(req);
    expect(again).toMatchObject({ id: a.id, duplicate: true });
    expect((await apiA.client.wait(a.id)).state).toBe('done');
  });

  it('an API node killed -9 mid-run and started again loses nothing', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await apiA.client.submit({ imageBase64: image, recipe: `shift:${0.2 + i * 0.1} steps:12`, owner: `o${i % 2}`, model: 'analytic' })).id);
    await kill9(apiA);
    apiA = await startClusterChild('api', server.url, ENGINE);
    const finals = await Promise.all(ids.map((id) => apiA.client.wait(id)));
    expect(finals.map((s) => s.state)).toEqual(ids.map(() => 'done'));
    // The other node saw the same jobs all along, and every result is there.
    for (const id of ids) {
      expect((await apiB.client.status(id)).state).toBe('done');
      expect(Buffer.from(await apiA.client.result(id)).subarray(1, 4).toString()).toBe('PNG');
    }
  });
});
