/**
 * The worker role in this process against a real redis-server and real BullMQ, driven through the
 * Redis contract (test/helpers/cluster-driver.ts): an edit runs and its results land in the shared
 * store; progress is relayed with phases and previews; a bad image completes as failed without a retry;
 * a cancel reaches the running job; a re-edit on another worker skips the inversion through the shared
 * cache; registration and heartbeat; SIGTERM-style close drains the running job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/load-config.js';
import { clusterKeys, type ClusterProgress, type WorkerRegistration } from '../../src/engine/cluster/contract.js';
import { startClusterWorker, type ClusterWorkerProcess } from '../../src/engine/cluster/start-cluster-worker.js';
import { ClusterDriver } from '../helpers/cluster-driver.js';
import { engineConfig } from '../helpers/engine.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const image = readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));
let server: RedisServer;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

function workerConfig(prefix: string, cluster: Record<string, unknown> = {}): AppConfig {
  return engineConfig(tempDir('asyrp-worker-'), { models: ['analytic'], maxBatch: 4, previewEvery: 2, cluster: { prefix, lockDurationMs: 2000, heartbeatMs: 500, progressMinIntervalMs: 0, ...cluster } });
}

async function setup(cluster: Record<string, unknown> = {}) {
  const prefix = `w${++n}`;
  const config = workerConfig(prefix, cluster);
  const driver = new ClusterDriver(server.url, config.engine.cluster);
  const workers: ClusterWorkerProcess[] = [];
  const startWorker = async (workerId: string) => {
    const w = await startClusterWorker(workerConfig(prefix, cluster), { redisUrl: server.url, workerId });
    workers.push(w);
    return w;
  };
  const close = async () => {
    for (const w of workers) await w.close();
    await driver.close();
  };
  return { prefix, driver, startWorker, close };
}

describe('cluster worker', () => {
  it('runs an edit and puts its results in the shared store; progress arrives with phases and previews', async () => {
    const { prefix, driver, startWorker, close } = await setup();
    try {
      const w = await startWorker('w-a');
      const progress: ClusterProgress[] = [];
      await driver.listen('analytic', (_id, p) => progress.push(p));
      const id = await driver.submit({ image, recipe: 'shift:0.8 steps:12', owner: 'u1', model: 'analytic', kind: 'compare', labels: { m: '1' } });
      const final = await driver.final('analytic', id);
      expect(final.state).toBe('completed');
      expect(final.status).toMatchObject({ id, state: 'done', owner: 'u1', model: 'analytic', labels: { m: '1' }, error: null });
      expect(final.status!.results).toEqual(expect.arrayContaining(['after', 'before', 'compare']));
      for (const v of final.status!.results) {
        const png = await driver.blobs.get(clusterKeys.blob(prefix, id, v));
        expect(png!.subarray(1, 4).toString()).toBe('PNG');
      }
      // Attempt-scoped copies were renamed, not left behind; the worker kept nothing of the job.
      expect(await driver.redis.keys(`${prefix}:blob:${id}:a:*`)).toEqual([]);
      expect(w.service.jobsInMemory).toBe(0);
      expect(readdirSync(join(w.dataDir, 'jobs'))).toEqual([]);
      await expect.poll(() => progress.length).toBeGreaterThan(2);
      expect(progress.every((p) => p.id === id)).toBe(true);
      const phases = [...new Set(progress.map((p) => p.phase))];
      expect(phases).toEqual(expect.arrayContaining(['inversion', 'editing']));
      const withPreview = progress.filter((p) => p.preview);
      expect(withPreview.length).toBeGreaterThan(0);
      expect((await driver.blobs.get(clusterKeys.blob(prefix, id, 'preview')))!.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await close();
    }
  });

  it('a bad image completes as failed with its code, started once (never retried)', async () => {
    const { driver, startWorker, close } = await setup();
    try {
      await startWorker('w-a');
      const id = await driver.submit({ image: Buffer.from('not an image at all'), recipe: 'shift', owner: 'u1', model: 'analytic' });
      const final = await driver.final('analytic', id);
      expect(final.state).toBe('completed');
      expect(final.status).toMatchObject({ id, state: 'failed' });
      expect(final.status!.error!.code).toMatch(/^IMAGE_/);
      expect(final.attemptsStarted).toBe(1);
    } finally {
      await close();
    }
  });

  it('a cancel reaches the running job on its worker', async () => {
    const { driver, startWorker, close } = await setup();
    try {
      await startWorker('w-a');
      let running = false;
      await driver.listen('analytic', (_id, p) => (running ||= p.state === 'running'));
      const id = await driver.submit({ image, recipe: 'shift steps:1000', owner: 'u1', model: 'analytic' });
      await expect.poll(() => running, { timeout: 20_000 }).toBe(true);
      await driver.cancel(id);
      const final = await driver.final('analytic', id);
      expect(final.status).toMatchObject({ id, state: 'cancelled' });
    } finally {
      await close();
    }
  });

  it('a re-edit of the same image on another worker skips the inversion (shared cache)', async () => {
    const { prefix, driver, startWorker, close } = await setup();
    try {
      const a = await startWorker('w-a');
      const first = await driver.final('analytic', await driver.submit({ image, recipe: 'shift:0.5 steps:10', owner: 'u1', model: 'analytic' }));
      expect(first.status).toMatchObject({ state: 'done', cacheHit: false });
      expect(await driver.redis.keys(`${prefix}:inv:analytic:*`)).toHaveLength(1);
      // Only worker B is left to take the re-edit; its local cache is empty (its own data folder).
      await a.close();
      await startWorker('w-b');
      const again = await driver.final('analytic', await driver.submit({ image, recipe: 'shift:1.5 steps:10', owner: 'u1', model: 'analytic' }));
      expect(again.status).toMatchObject({ state: 'done', cacheHit: true });
    } finally {
      await close();
    }
  });

  it('registers with its models and a heartbeat, and unregisters on close', async () => {
    const { prefix, driver, startWorker, close } = await setup();
    try {
      const w = await startWorker('w-reg');
      const key = clusterKeys.worker(prefix, 'w-reg');
      const reg = (await driver.redis.hgetall(key)) as Record<keyof WorkerRegistration, string>;
      expect(reg).toMatchObject({ workerId: 'w-reg', pid: String(process.pid), slots: '4', busy: '0' });
      expect((JSON.parse(reg.models) as { id: string }[]).map((m) => m.id)).toEqual(['analytic']);
      const ttl = await driver.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1500);
      // The beat moves `at` forward.
      await expect.poll(async () => Number(await driver.redis.hget(key, 'at')), { timeout: 5000 }).toBeGreaterThan(Number(reg.at));
      const health = (await (await fetch(`${w.http!.url}/v1/health`)).json()) as { workerId: string; models: string[] };
      expect(health).toMatchObject({ workerId: 'w-reg', models: ['analytic'] });
      expect(await (await fetch(`${w.http!.url}/metrics`)).text()).toMatch(/asyrp_/);
      await w.close();
      expect(await driver.redis.exists(key)).toBe(0);
    } finally {
      await close();
    }
  });

  it('close() lets the running job finish and delivers it (SIGTERM drains)', async () => {
    const { driver, startWorker, close } = await setup();
    try {
      const w = await startWorker('w-a');
      let running = false;
      await driver.listen('analytic', (_id, p) => (running ||= p.state === 'running'));
      const id = await driver.submit({ image, recipe: 'shift steps:60', owner: 'u1', model: 'analytic' });
      await expect.poll(() => running, { timeout: 20_000 }).toBe(true);
      await w.close();
      const final = await driver.final('analytic', id, 1000);
      expect(final.status).toMatchObject({ id, state: 'done' });
    } finally {
      await close();
    }
  });

  it('close(drainMs) stops waiting for a job longer than that; another worker runs it again', async () => {
    const { driver, startWorker, close } = await setup();
    try {
      const w = await startWorker('w-a');
      let running = false;
      await driver.listen('analytic', (_id, p) => (running ||= p.state === 'running'));
      const id = await driver.submit({ image, recipe: 'shift steps:1000', owner: 'u1', model: 'analytic' });
      await expect.poll(() => running, { timeout: 20_000 }).toBe(true);
      expect(await w.worker.close(100)).toBe(false);
      await w.service.stop();
      await startWorker('w-b');
      const final = await driver.final('analytic', id);
      expect(final.status).toMatchObject({ id, state: 'done' });
      expect(final.attemptsStarted).toBe(2);
    } finally {
      await close();
    }
  });
});
