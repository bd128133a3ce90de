/**
 * Durability of cluster jobs on a real redis-server and real BullMQ. A worker that stops renewing its
 * lock (a "zombie": a BullMQ worker force-closed mid-job, as a killed process leaves it) loses the job to
 * a live worker, which runs it and delivers one result; past the attempt cap the job fails (the API
 * reports INTERRUPTED). The commit script keeps a late attempt's results out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { clusterKeys, queueName } from '../../src/engine/cluster/contract.js';
import { redisOptions } from '../../src/engine/cluster/redis-connection.js';
import { ResultCommitter } from '../../src/engine/cluster/result-commit.js';
import { startClusterWorker, type ClusterWorkerProcess } from '../../src/engine/cluster/start-cluster-worker.js';
import { ClusterDriver } from '../helpers/cluster-driver.js';
import { engineConfig } from '../helpers/engine.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const image = readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));
const LOCK_MS = 1000;
let server: RedisServer;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

function setup(maxAttempts: number) {
  const prefix = `s${++n}`;
  const cluster = { prefix, lockDurationMs: LOCK_MS, maxAttempts, heartbeatMs: 500, progressMinIntervalMs: 0 };
  const config = () => engineConfig(tempDir('asyrp-worker-'), { models: ['analytic'], maxBatch: 4, cluster });
  const driver = new ClusterDriver(server.url, config().engine.cluster);
  const live: ClusterWorkerProcess[] = [];
  /** Takes the next job and hangs on it; once it has one, it is force-closed: its lock is no longer renewed. */
  const zombie = async () => {
    let took: () => void;
    const tookJob = new Promise<void>((r) => (took = r));
    const w = new Worker(queueName('analytic'), () => (took(), new Promise(() => undefined)), {
      connection: redisOptions(server.url, 'zombie'),
      prefix,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS,
      maxStalledCount: maxAttempts - 1,
    });
    await tookJob;
    await w.close(true);
  };
  const worker = async () => {
    const w = await startClusterWorker(config(), { redisUrl: server.url, workerId: `live-${live.length}` });
    live.push(w);
    return w;
  };
  const close = async () => {
    for (const w of live) await w.close();
    await driver.close();
  };
  return { prefix, driver, zombie, worker, close };
}

describe('stalled cluster jobs', () => {
  it('a job whose worker went silent is retried on a live worker and delivered once', async () => {
    const { prefix, driver, zombie, worker, close } = setup(3);
    try {
      const id = await driver.submit({ image, recipe: 'shift steps:8', owner: 'u1', model: 'analytic' });
      await zombie();
      await worker();
      const final = await driver.final('analytic', id);
      expect(final.state).toBe('completed');
      expect(final.status).toMatchObject({ id, state: 'done' });
      expect(final.attemptsStarted).toBe(2);
      expect(await driver.blobs.get(clusterKeys.blob(prefix, id, 'after'))).not.toBeNull();
    } finally {
      await close();
    }
  });

  it('past the attempt cap the job fails in BullMQ (reported as INTERRUPTED) and is not run again', async () => {
    const { driver, zombie, worker, close } = setup(2);
    try {
      const id = await driver.submit({ image, recipe: 'shift steps:8', owner: 'u1', model: 'analytic' });
      await zombie();
      // The second zombie's own stalled check gives the job back once (attempt 2 of 2), then it goes silent too.
      await zombie();
      await worker();
      const final = await driver.final('analytic', id);
      expect(final.state).toBe('failed');
      expect(final.reason).toMatch(/stalled/);
    } finally {
      await close();
    }
  });

  it('the commit renames an attempt\'s results only while that attempt holds the lock', async () => {
    const { prefix, driver, close } = setup(3);
    try {
      const committer = new ResultCommitter(driver.redis, prefix);
      const lock = clusterKeys.bull(prefix, 'analytic', 'j1:lock');
      await driver.redis.set(lock, 'token-new', 'PX', 10_000);
      // The stalled attempt (token-old) finishes late: its blobs are dropped, nothing becomes the result.
      await driver.blobs.put(committer.attemptKey('j1', 'token-old', 'after'), Buffer.from('late'));
      expect(await committer.commit('analytic', 'j1', 'token-old', ['after'])).toBe(false);
      expect(await driver.blobs.get(clusterKeys.blob(prefix, 'j1', 'after'))).toBeNull();
      expect(await driver.blobs.get(committer.attemptKey('j1', 'token-old', 'after'))).toBeNull();
      // The attempt that holds the lock commits; the result keeps its TTL.
      await driver.blobs.put(committer.attemptKey('j1', 'token-new', 'after'), Buffer.from('good'), 120);
      expect(await committer.commit('analytic', 'j1', 'token-new', ['after'])).toBe(true);
      expect((await driver.blobs.get(clusterKeys.blob(prefix, 'j1', 'after')))!.toString()).toBe('good');
      expect(await driver.redis.ttl(clusterKeys.blob(prefix, 'j1', 'after'))).toBeGreaterThan(100);
    } finally {
      await close();
    }
  });
});
