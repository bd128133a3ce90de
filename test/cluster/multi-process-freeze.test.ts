/**
 * Exactly once when a worker is not dead but late: two worker processes (test/helpers/cluster-child.ts)
 * on a real redis-server, jobs added through the Redis contract (test/helpers/cluster-driver.ts). One
 * worker is frozen (SIGSTOP) past its lock: the other runs its jobs again and delivers them; resumed, the
 * frozen one finishes its attempts late, finds the lock gone and discards them, so each job completes once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { CLUSTER_DEFAULTS, queueName } from '../../src/engine/cluster/contract.js';
import { redisOptions } from '../../src/engine/cluster/redis-connection.js';
import { ClusterDriver } from '../helpers/cluster-driver.js';
import { until } from '../helpers/engine-process.js';
import { killClusterChildren, startClusterChild, type ClusterChild, workerBusy } from '../helpers/cluster-processes.js';
import { repoRoot } from '../helpers/paths.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PREFIX = 'mpz';
// inline: no inference thread to start per worker; the analytic model's UNet calls are far shorter than a lock renewal.
const ENGINE = { models: ['analytic'], inference: 'inline', maxBatch: 4, cluster: { prefix: PREFIX, lockDurationMs: 2000, heartbeatMs: 1000 } };
const image = readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));

let server: RedisServer;
let frozen: ClusterChild;
let driver: ClusterDriver;
let events: QueueEvents;
const completions = new Map<string, number>();

beforeAll(async () => {
  server = await startRedisServer();
  driver = new ClusterDriver(server.url, { ...CLUSTER_DEFAULTS, prefix: PREFIX });
  events = new QueueEvents(queueName('analytic'), { connection: redisOptions(server.url, 'test-events'), prefix: PREFIX });
  events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();
  // Only this worker is up while the jobs go in, so it holds them.
  frozen = await startClusterChild('worker', server.url, ENGINE);
});

afterAll(async () => {
  await events?.close();
  await driver?.close();
  killClusterChildren();
  await server?.stop();
});

describe('a worker frozen past its lock', () => {
  it('is replaced for its jobs; resumed, its late finish is discarded and each job completes once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await driver.submit({ image, recipe: `shift:${0.3 + i * 0.2} steps:60`, owner: `f${i}`, model: 'analytic' }));
    await until('the worker to hold the jobs', async () => (await workerBusy(frozen)) === 4, 800);
    frozen.child.kill('SIGSTOP');
    await startClusterChild('worker', server.url, ENGINE);
    // The frozen worker's locks expire; the other worker runs the jobs again and delivers them.
    const finals = await Promise.all(ids.map((id) => driver.final('analytic', id)));
    expect(finals.map((f) => f.status?.state)).toEqual(ids.map(() => 'done'));
    expect(finals.map((f) => f.attemptsStarted)).toEqual(ids.map(() => 2));
    frozen.child.kill('SIGCONT');
    // Resumed, it finishes its attempts late, finds each lock gone and throws those results away.
    await until('the late attempts to give up', () => (frozen.log().match(/lost its lock/g) ?? []).length === ids.length, 1600);
    expect(ids.map((id) => completions.get(id))).toEqual(ids.map(() => 1));
  });
});
