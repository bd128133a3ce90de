/**
 * An API node (engine.queue redis, role api) over real HTTP on a real redis-server and real BullMQ: the
 * engine client cannot tell it from the single engine. The worker here is a small BullMQ processor that
 * speaks the contract (progress as JobStatus, result blobs, the final status as return value), so the
 * API side is tested on its own; the real worker role has its own tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import type { JobStatus, ModelInfo } from '../../src/engine/client/api-types.js';
import { EngineClient, EngineClientError } from '../../src/engine/client/engine-client.js';
import { clusterKeys, queueName, type ClusterJobData } from '../../src/engine/cluster/contract.js';
import { openRedis, redisOptions } from '../../src/engine/cluster/redis-connection.js';
import { startClusterApi, type ClusterApiServer } from '../../src/engine/cluster/start-cluster-api.js';
import { engineConfig, sampleImageBase64 } from '../helpers/engine.js';
import { tempDir } from '../helpers/paths.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PREFIX = 'apitest';
const MODEL: ModelInfo = {
  id: 'toy',
  title: 'Toy',
  domain: null,
  resolution: 32,
  isDefault: true,
  directions: [{ name: 'smile', description: 'smile', defaultStrength: 1 }],
};

let redisServer: RedisServer;
let redis: Redis;
const nodes: ClusterApiServer[] = [];

function config(engine: Record<string, unknown> = {}) {
  return engineConfig(tempDir('asyrp-api-node-'), {
    queue: 'redis',
    role: 'api',
    maxQueued: 6,
    maxQueuedPerOwner: 3,
    cluster: { prefix: PREFIX, progressMinIntervalMs: 50, blobTtlSeconds: 600 },
    ...engine,
  });
}

async function startNode(engine: Record<string, unknown> = {}): Promise<{ node: ClusterApiServer; client: EngineClient }> {
  const node = await startClusterApi(config(engine), { redisUrl: redisServer.url });
  nodes.push(node);
  return { node, client: new EngineClient({ baseUrl: node.url }) };
}

/** A live worker's registration, as a worker writes it (contract.ts, WorkerRegistration). */
async function register(workerId: string, models: ModelInfo[], ttlSeconds = 60): Promise<void> {
  const key = clusterKeys.worker(PREFIX, workerId);
  await redis.hset(key, { workerId, host: 'test-host', pid: String(process.pid), models: JSON.stringify(models), slots: '4', busy: '0', startedAt: String(Date.now()), at: String(Date.now()) });
  await redis.expire(key, ttlSeconds);
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; status: number; retryAfterMs: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineClientError) return { code: e.code, status: e.status, retryAfterMs: e.retryAfterMs, message: e.message };
    throw e;
  }
  return { code: 'no error', status: 0, retryAfterMs: undefined, message: '' };
}

const image = sampleImageBase64();

beforeAll(async () => {
  redisServer = await startRedisServer();
  redis = openRedis(redisServer.url, 'test');
  // The restart case takes Redis away for a moment; the test's own connection just reconnects.
  redis.on('error', () => undefined);
  await register('w1', [MODEL]);
});

afterAll(async () => {
  for (const n of nodes) await n.close();
  redis?.disconnect();
  await redisServer?.stop();
});

describe('API node: the engine API on BullMQ', () => {
  it('offers the models live workers serve and checks a submit as the single engine does, before queueing', async () => {
    const { client } = await startNode();
    expect((await client.models()).models).toEqual([MODEL]);
    const health = await client.health();
    expect(health).toMatchObject({ status: 'ok', models: ['toy'], queue: { queued: 0, running: 0 } });

    const unknownModel = await codeOf(client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'o', model: 'nope' }));
    expect(unknownModel).toMatchObject({ code: 'MODEL_NOT_FOUND', status: 404 });
    expect(unknownModel.message).toMatch(/no worker serves it/);
    expect(await codeOf(client.submit({ imageBase64: image, recipe: 'frown:1', owner: 'o' }))).toMatchObject({ code: 'RECIPE_UNKNOWN_DIRECTION', status: 422 });
    expect(await codeOf(client.submit({ imageBase64: Buffer.from('<svg/>').toString('base64'), recipe: 'smile:1', owner: 'o' }))).toMatchObject({ code: 'IMAGE_UNSUPPORTED_FORMAT', status: 415 });
    // A valid PNG whose header claims 20000×20000: refused from the header, never decoded.
    const bomb = Buffer.from(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer());
    bomb.writeUInt32BE(20000, 16);
    bomb.writeUInt32BE(20000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    expect(await codeOf(client.submit({ imageBase64: bomb.toString('base64'), recipe: 'smile:1', owner: 'o' }))).toMatchObject({ code: 'IMAGE_TOO_LARGE', status: 413 });
    expect(await codeOf(client.submit({ imageBase64: image, recipe: '', owner: 'o' }))).toMatchObject({ code: 'BAD_REQUEST' });
    // Nothing refused took a place in a queue.
    expect((await client.health()).queue.queued).toBe(0);
  });

  it('queues a job any API node can answer for; an idempotency key dedupes across nodes; a queued job is cancelled at once', async () => {
    const a = await startNode();
    const b = await startNode();
    const first = await a.client.submit({ imageBase64: image, recipe: 'smile:0.5', owner: 'idem', idempotencyKey: 'msg-1' });
    expect(first).toMatchObject({ state: 'queued', position: 1, duplicate: false });
    const again = await b.client.submit({ imageBase64: image, recipe: 'smile:0.9', owner: 'idem', idempotencyKey: 'msg-1' });
    expect(again).toMatchObject({ id: first.id, duplicate: true, state: 'queued' });
    const onB = await b.client.status(first.id);
    expect(onB).toMatchObject({ id: first.id, state: 'queued', phase: 'queued', position: 1, recipe: 'smile:0.5', model: 'toy', owner: 'idem' });
    // The input went to the shared store, the job to the model's queue.
    expect(await redis.exists(clusterKeys.blob(PREFIX, first.id, 'input'))).toBe(1);
    expect(await redis.zcard(clusterKeys.bull(PREFIX, 'toy', 'prioritized'))).toBe(1);

    const cancelled = await b.client.cancel(first.id);
    expect(cancelled).toMatchObject({ id: first.id, state: 'cancelled', phase: 'finished' });
    expect(await a.client.status(first.id)).toMatchObject({ state: 'cancelled' });
    expect(await redis.zcard(clusterKeys.bull(PREFIX, 'toy', 'prioritized'))).toBe(0);
    expect(await redis.scard(clusterKeys.owner(PREFIX, 'idem'))).toBe(0);
    expect(await codeOf(a.client.status('no-such-job'))).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(await codeOf(a.client.result(first.id))).toMatchObject({ code: 'NOT_READY', status: 409 });
  });

  it('answers the per-owner and the global cap as today, with Retry-After', async () => {
    const { client } = await startNode();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'greedy' })).id);
    const owner = await codeOf(client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'greedy' }));
    expect(owner).toMatchObject({ code: 'OWNER_LIMIT', status: 429 });
    expect(owner.retryAfterMs).toBeGreaterThanOrEqual(1000);
    for (let i = 0; i < 3; i++) ids.push((await client.submit({ imageBase64: image, recipe: 'smile:1', owner: `other-${i}` })).id);
    const busy = await codeOf(client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'late' }));
    expect(busy).toMatchObject({ code: 'BUSY', status: 503 });
    expect(busy.retryAfterMs).toBeGreaterThanOrEqual(1000);
    // Fairness: the other owners' jobs are ahead of greedy's second and third.
    const positions = await Promise.all(ids.map(async (id) => (await client.status(id)).position));
    expect(positions[1]).toBeGreaterThan(positions[3]!);
    expect(positions[2]).toBeGreaterThan(positions[5]!);
    for (const id of ids) await client.cancel(id);
    expect((await client.health()).queue.queued).toBe(0);
  });

  it('relays a worker\'s progress and previews to event streams on another API node, serves results from blobs, and survives an API restart', async () => {
    const a = await startNode();
    const b = await startNode();
    const release = deferred();
    const worker = contractWorker(release.promise);
    try {
      const { id } = await a.client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'streamer' });
      const events: { state: string; phase: string; step: number; preview: boolean }[] = [];
      const done = b.client.wait(id, (e) => events.push({ state: e.status.state, phase: e.status.phase, step: e.status.step, preview: !!e.previewBase64 }));
      const stream = b.client.events(id, { preview: true });
      const withPreview: boolean[] = [];
      const previews = (async () => {
        for await (const e of stream) withPreview.push(!!e.previewBase64);
      })();
      release.resolve();
      const final = await done;
      await previews;
      expect(final).toMatchObject({ id, state: 'done', results: ['after', 'before'] });
      expect(events[0]!.state).toMatch(/queued|running/);
      expect(events.some((e) => e.phase === 'editing' && e.step > 0)).toBe(true);
      expect(events.every((e) => !e.preview)).toBe(true);
      expect(withPreview).toContain(true);
      // Throttled: 20 progress updates 10 ms apart arrive as far fewer events (min interval 50 ms).
      expect(events.length).toBeLessThan(16);

      const after = await a.client.result(id);
      expect(Buffer.from(after).subarray(1, 4).toString()).toBe('PNG');
      const enlarged = await sharp(await a.client.result(id, 'after', { display: 256 })).metadata();
      expect(enlarged.width).toBeGreaterThanOrEqual(256);

      // An API node that restarts has lost nothing: all state is in Redis.
      await a.node.close();
      const c = await startNode();
      expect(await c.client.status(id)).toMatchObject({ state: 'done' });
      expect(Buffer.from(await c.client.result(id, 'before'))).toEqual(Buffer.from(await b.client.result(id, 'before')));
      // SSE on a finished job: one event, the final one.
      const late: JobStatus[] = [];
      await c.client.wait(id, (e) => late.push(e.status));
      expect(late.map((s) => s.state)).toEqual(['done']);
      const metrics = await (await fetch(`${c.node.url}/metrics`)).text();
      expect(metrics).toMatch(/asyrp_cluster_queue_depth\{model="toy"\} 0/);
      expect(metrics).toMatch(/asyrp_cluster_workers 1/);
      expect(metrics).toMatch(/asyrp_cluster_worker_heartbeat_age_seconds\{worker="w1",host="test-host"\}/);
      expect(metrics).toMatch(/process_resident_memory_bytes/);
    } finally {
      await worker.close();
    }
  });

  it('reports a job whose worker failed as failed (a stalled one past the cap as INTERRUPTED)', async () => {
    const { client } = await startNode();
    const worker = new Worker<ClusterJobData>(
      queueName('toy'),
      async () => {
        throw new Error('job stalled more than allowable limit');
      },
      { connection: redisOptions(redisServer.url, 'failing-worker'), prefix: PREFIX },
    );
    try {
      const { id } = await client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'unlucky' });
      const final = await client.wait(id);
      expect(final).toMatchObject({ state: 'failed', error: { code: 'INTERRUPTED' } });
    } finally {
      await worker.close();
    }
  });
});

describe('API node start-up', () => {
  it('refuses a submit for a model no live worker serves once its worker is gone', async () => {
    await redis.del(clusterKeys.worker(PREFIX, 'w1'));
    const { client } = await startNode();
    const gone = await codeOf(client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'o', model: 'toy' }));
    expect(gone).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((await client.models()).models).toEqual([]);
    await register('w1', [MODEL]);
  });
});

describe('Redis restarts without persistence', () => {
  it('loses the queue, the results and the registrations; API nodes reconnect and serve again once workers re-register', async () => {
    const { client } = await startNode();
    const { id } = await client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'before-restart' });
    await redisServer.restart();
    await new Promise((r) => setTimeout(r, 1100)); // the worker directory is read at most once a second
    // The API node reconnects by itself; until it has, it answers BUSY with Retry-After, never hangs.
    let health = null;
    for (let i = 0; i < 50 && !health; i++) {
      health = await client.health().catch((e: unknown) => {
        expect(e).toMatchObject({ code: 'BUSY' });
        return null;
      });
      if (!health) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health).toMatchObject({ status: 'ok', models: [], queue: { queued: 0 } });
    expect(await codeOf(client.status(id))).toMatchObject({ code: 'NOT_FOUND' });
    // A worker's next heartbeat registers it again; submits work as before.
    await register('w1', [MODEL]);
    await new Promise((r) => setTimeout(r, 1100)); // the directory is read at most once a second
    const again = await client.submit({ imageBase64: image, recipe: 'smile:1', owner: 'after-restart' });
    expect(await client.status(again.id)).toMatchObject({ state: 'queued', position: 1 });
    await client.cancel(again.id);
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A worker that speaks the contract without a model: 20 progress updates (a preview blob every 5),
 * two result blobs, the final JobStatus as its return value. It starts once `go` resolves, so the
 * test's streams are open first.
 */
function contractWorker(go: Promise<void>): Worker<ClusterJobData> {
  return new Worker<ClusterJobData>(
    queueName('toy'),
    async (job: Job<ClusterJobData>) => {
      await go;
      const d = job.data;
      const input = await redis.getBuffer(d.inputKey);
      if (!input) throw new Error('BLOB_MISSING: no input');
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#cc8844' } }).png().toBuffer();
      const base: JobStatus = {
        id: job.id!,
        kind: d.kind,
        state: 'running',
        phase: 'inversion',
        position: 0,
        step: 0,
        total: 20,
        etaMs: null,
        cacheHit: false,
        model: d.modelId,
        recipe: d.recipe,
        owner: d.owner,
        createdAt: new Date(d.submittedAt).toISOString(),
        startedAt: new Date().toISOString(),
        finishedAt: null,
        error: null,
        results: [],
        labels: d.labels ?? {},
      };
      let preview = 0;
      for (let step = 1; step <= 20; step++) {
        if (step % 5 === 0) {
          await redis.set(clusterKeys.blob(PREFIX, job.id!, 'preview'), png, 'EX', 60);
          preview++;
        }
        await job.updateProgress({ ...base, step, phase: step <= 10 ? 'inversion' : 'editing', preview });
        await new Promise((r) => setTimeout(r, 10));
      }
      await redis.set(clusterKeys.blob(PREFIX, job.id!, 'after'), png, 'EX', 600);
      await redis.set(clusterKeys.blob(PREFIX, job.id!, 'before'), png, 'EX', 600);
      return { ...base, state: 'done', phase: 'finished', step: 20, finishedAt: new Date().toISOString(), results: ['after', 'before'] };
    },
    { connection: redisOptions(redisServer.url, 'contract-worker'), prefix: PREFIX },
  );
}
