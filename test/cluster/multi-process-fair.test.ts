/**
 * The scale-out with real processes: one API node and two worker processes (test/helpers/cluster-child.ts)
 * on a real redis-server, the engine client over HTTP, the analytic test model: an owner with 50 queued
 * jobs delays another owner's single job by at most one turn per worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_DEFAULTS } from '../../src/engine/cluster/contract.js';
import { ClusterDriver } from '../helpers/cluster-driver.js';
import { killClusterChildren, startClusterChild, type ClusterChild } from '../helpers/cluster-processes.js';
import { until } from '../helpers/engine-process.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PREFIX = 'mpf';
// inline: no inference thread to start per worker; the analytic model's UNet calls are far shorter than a lock renewal.
const ENGINE = { models: ['analytic'], inference: 'inline', maxBatch: 4, maxQueued: 200, maxQueuedPerOwner: 60, cluster: { prefix: PREFIX, lockDurationMs: 2000, heartbeatMs: 1000 } };
const image = sampleImageBase64();

let server: RedisServer;
let api: ClusterChild;
let workers: ClusterChild[];
let driver: ClusterDriver;

beforeAll(async () => {
  server = await startRedisServer();
  [api, ...workers] = await Promise.all([startClusterChild('api', server.url, ENGINE), startClusterChild('worker', server.url, ENGINE), startClusterChild('worker', server.url, ENGINE)]);
  driver = new ClusterDriver(server.url, { ...CLUSTER_DEFAULTS, prefix: PREFIX });
  // The API node lists the model once it has read the workers' registrations (it may cache them briefly).
  await until('the API node lists the workers\' model', async () => (await api.client.models()).models.length > 0);
});

afterAll(async () => {
  await driver?.close();
  killClusterChildren();
  await server?.stop();
});

describe('1 API node + 2 worker processes', () => {
  it('an owner with 50 queued jobs delays another owner\'s single job by at most one turn per worker', async () => {
    // The queue is paused while the jobs go in, so that all 50 are waiting when the light job comes:
    // what is measured is the order the workers take them in, not how fast this machine submits.
    await driver.queue('analytic').pause();
    const heavy = (await Promise.all(Array.from({ length: 50 }, () => api.client.submit({ imageBase64: image, recipe: 'shift steps:12', owner: 'heavy', model: 'analytic' })))).map((s) => s.id);
    const light = (await api.client.submit({ imageBase64: image, recipe: 'shift steps:12', owner: 'light', model: 'analytic' })).id;
    await driver.queue('analytic').resume();
    await Promise.all([...heavy, light].map((id) => api.client.wait(id)));
    const startedAt = async (id: string) => (await driver.queue('analytic').getJob(id))!.processedOn!;
    const lightStart = await startedAt(light);
    const heavyStarts = await Promise.all(heavy.map(startedAt));
    // Without fairness the light job would start after all 50; with it, at most one heavy job per worker goes first.
    expect(heavyStarts.filter((t) => t < lightStart).length).toBeLessThanOrEqual(workers.length);
    expect(heavyStarts.filter((t) => t > lightStart).length).toBeGreaterThanOrEqual(45);
  });
});
