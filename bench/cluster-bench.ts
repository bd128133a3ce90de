/**
 * Scale-out benchmark (issue #33): the default model (toyfaces-32) on the local queue against the Redis
 * queue with 1 and 2 worker processes, on a redis-server of its own on loopback.
 *
 * - edits/min: a burst of JOBS edits (2 per owner, each of a different image so none hits the inversion
 *   cache) submitted at once through the engine client, timed from the first submit to the last result.
 * - added latency: one edit at a time on an idle engine, submit to final event, local against 1 worker.
 * - Redis memory per queued job: INFO used_memory before and after QUEUED jobs wait (no worker running),
 *   with and without the input image they carry.
 * - blob round trip: SET and GET of a result-sized and an input-sized blob (the shared store's cost).
 *
 * The API node and the local engine run in this process; each worker is `asyrp engine --role worker` in
 * its own process. Prints Markdown for docs/benchmarks.md.
 *
 *   npm run bench:cluster [-- --jobs 48 --steps 10 --sequential 8 --queued 100]
 *   npm run bench:cluster -- --overhead [--sequential 8]   (the queue path's own latency, on a model that costs ms)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { loadConfig, type AppConfig } from '../src/config/load-config.js';
import { EngineClient } from '../src/engine/client/engine-client.js';
import { startClusterApi } from '../src/engine/cluster/start-cluster-api.js';
import { startEngineServer } from '../src/engine/service/start-engine-server.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';
import runTmpdir from '../test/helpers/run-tmpdir.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';

// The bot, engine and worker folders of this run live under one temporary folder, removed on exit.
process.on('exit', runTmpdir());

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const JOBS = arg('jobs', 48);
const STEPS = arg('steps', 10);
const SEQUENTIAL = arg('sequential', 8);
const QUEUED = arg('queued', 100);
const RECIPE = `eyes-closed:0.8 steps:${STEPS}`;

function config(engine: Record<string, unknown>): AppConfig {
  const dataDir = tempDir('asyrp-cluster-bench-');
  return loadConfig({
    root: repoRoot,
    env: {},
    overrides: { dataDir, logLevel: 'warn', storage: { path: join(dataDir, 'asyrp.db') }, engine: { host: '127.0.0.1', port: 0, maxQueued: 1000, ...engine } },
  });
}

/** A distinct 64×64 PNG per index (its own colour and noise): no two share an inversion. */
async function image(i: number): Promise<string> {
  const noise = Buffer.alloc(64 * 64 * 3);
  for (let k = 0; k < noise.length; k++) noise[k] = (k * 31 + i * 97 + ((k * i) % 13)) & 0xff;
  return (await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer()).toString('base64');
}

async function burst(client: EngineClient, images: string[]): Promise<{ seconds: number; perMin: number; failed: number }> {
  const t0 = performance.now();
  const ids = await Promise.all(images.map((img, i) => client.submit({ imageBase64: img, recipe: RECIPE, owner: `owner-${Math.floor(i / 2)}` }).then((r) => r.id)));
  const finals = await Promise.all(ids.map((id) => client.wait(id)));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perMin: (images.length / seconds) * 60, failed: finals.filter((f) => f.state !== 'done').length };
}

async function sequential(client: EngineClient, images: string[]): Promise<number[]> {
  const ms: number[] = [];
  for (const img of images) {
    const t0 = performance.now();
    const { id } = await client.submit({ imageBase64: img, recipe: RECIPE, owner: 'solo' });
    const final = await client.wait(id);
    if (final.state !== 'done') throw new Error(`sequential job ${final.state}: ${final.error?.message}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function startWorker(redis: RedisServer, name: string, threads: number | null, extraEnv: Record<string, string> = {}): ChildProcess {
  const env = {
    ...process.env,
    ...extraEnv,
    ASYRP_QUEUE: 'redis',
    ASYRP_REDIS_URL: redis.url,
    ASYRP_ENGINE_PORT: '0',
    ASYRP_DATA_DIR: tempDir(`asyrp-bench-${name}-`),
    ASYRP_LOG_LEVEL: 'warn',
    ...(threads !== null ? { ASYRP_INTRA_OP_THREADS: String(threads) } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'helpers', 'cli-entry.ts'), 'engine', '--role', 'worker'], { env, cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

async function waitWorkers(url: string, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (new RegExp(`^asyrp_cluster_workers ${n}$`, 'm').test(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${n} worker(s) did not register within 120 s`);
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function main(): Promise<void> {
  const images = await Promise.all(Array.from({ length: JOBS + 2 * SEQUENTIAL + 4 }, (_, i) => image(i)));
  let next = 0;
  const take = (n: number) => images.slice(next, (next += n));
  const rows: string[] = [];
  process.stderr.write(`cluster bench: ${JOBS} jobs, ${RECIPE}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(1)}\n`);

  // Local queue, in this process.
  const local = await startEngineServer(config({ queue: 'local' }));
  const localClient = new EngineClient({ baseUrl: local.url, timeoutMs: 120_000 });
  await sequential(localClient, take(2)); // warm-up
  const localSeq = await sequential(localClient, take(SEQUENTIAL));
  const localBurst = await burst(localClient, take(JOBS));
  await local.close();
  rows.push(`| local queue, 1 engine process | ${localBurst.perMin.toFixed(1)} | ${localBurst.seconds.toFixed(1)} | ${localBurst.failed} | ${median(localSeq).toFixed(0)} | ${mean(localSeq).toFixed(0)} |`);
  next = 2 + SEQUENTIAL; // the cluster runs see the same images

  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const cmd = new Redis(redis.url);
  // Both sides use the default key prefix, "asyrp".
  const api = await startClusterApi(config({ queue: 'redis', role: 'api' }), { redisUrl: redis.url });
  const client = new EngineClient({ baseUrl: api.url, timeoutMs: 120_000 });
  let clusterSeq: number[] = [];
  let served = '[]';
  for (const [label, workers, threads] of [
    ['redis queue, 1 worker process', 1, null],
    ['redis queue, 2 worker processes', 2, null],
    ['redis queue, 2 worker processes, 1 thread each', 2, 1],
  ] as const) {
    const children = Array.from({ length: workers }, (_, i) => startWorker(redis, `w${i}`, threads));
    cleanups.push(() => stopWorkers(children));
    await waitWorkers(api.url, workers);
    served = JSON.stringify((await client.models()).models);
    // Every setup sees the same images, with nothing of the earlier runs in the shared inversion cache.
    const cached = await cmd.keys('asyrp:inv:*');
    if (cached.length) await cmd.del(...cached);
    next = 0;
    await sequential(client, take(2)); // warm-up
    const oneAtATime = take(SEQUENTIAL);
    const seq = workers === 1 ? await sequential(client, oneAtATime) : [];
    if (workers === 1) clusterSeq = seq;
    const b = await burst(client, take(JOBS));
    process.stderr.write(`${label}: ${b.perMin.toFixed(1)} edits/min\n`);
    rows.push(`| ${label} | ${b.perMin.toFixed(1)} | ${b.seconds.toFixed(1)} | ${b.failed} | ${seq.length ? median(seq).toFixed(0) : '-'} | ${seq.length ? mean(seq).toFixed(0) : '-'} |`);
    await stopWorkers(children);
    await new Promise((r) => setTimeout(r, 200));
    const left = await cmd.keys('asyrp:worker:*');
    if (left.length) await cmd.del(...left);
  }

  // Redis memory per queued job: no worker runs, so the jobs wait.
  const used = async () => Number(/used_memory:(\d+)/.exec(await cmd.info('memory'))![1]);
  const memoryRow = async (label: string, img: string) => {
    await cmd.hset('asyrp:worker:mem', { workerId: 'mem', host: 'bench', pid: '0', models: served, slots: '8', busy: '0', startedAt: String(Date.now()), at: String(Date.now()) });
    await cmd.expire('asyrp:worker:mem', 600);
    await new Promise((r) => setTimeout(r, 1100));
    const before = await used();
    const ids: string[] = [];
    for (let i = 0; i < QUEUED; i++) ids.push((await client.submit({ imageBase64: img, recipe: RECIPE, owner: `mem-${i}` })).id);
    const after = await used();
    for (const id of ids) await client.cancel(id);
    const bytes = Buffer.from(img, 'base64').length;
    return `| ${label} | ${bytes} | ${((after - before) / QUEUED / 1024).toFixed(1)} | ${((after - before - QUEUED * bytes) / QUEUED / 1024).toFixed(1)} |`;
  };
  const tinyPng = (await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer()).toString('base64');
  const photo = (await sharp(Buffer.from(images[0]!, 'base64')).resize(512, 512).jpeg({ quality: 90 }).toBuffer()).toString('base64');
  const mem = [await memoryRow('8×8 PNG', tinyPng), await memoryRow('64×64 PNG (the burst inputs)', images[0]!), await memoryRow('512×512 JPEG', photo)];

  // Blob round trips.
  const blob = async (size: number) => {
    const buf = Buffer.alloc(size, 7);
    const t: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await cmd.set(`bench:blob:${i}`, buf, 'EX', 60);
      await cmd.getBuffer(`bench:blob:${i}`);
      t.push(performance.now() - t0);
    }
    return `| ${Math.round(size / 1024)} KiB | ${median(t).toFixed(2)} | ${[...t].sort((a, b) => a - b)[98]!.toFixed(2)} |`;
  };
  const blobs = [await blob(16 * 1024), await blob(256 * 1024), await blob(2 * 1024 * 1024)];

  await api.close();
  cmd.disconnect();
  await redis.stop();

  const added = median(clusterSeq) - median(localSeq);
  process.stdout.write(
    [
      `${new Date().toISOString()}, ${availableParallelism()} cores, load average at the end ${loadavg()[0]!.toFixed(1)}; toyfaces-32, \`${RECIPE}\`, ${JOBS} jobs in the burst (2 per owner, distinct images), ${SEQUENTIAL} one at a time`,
      '',
      '| setup | edits/min (burst) | burst s | failed | one job p50 ms | one job mean ms |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Added latency of the queue path (1 worker, one job at a time, p50): ${added.toFixed(0)} ms per job.`,
      '',
      `| queued job's input | input bytes | Redis KiB per queued job | of which not the input |`,
      '|---|---:|---:|---:|',
      ...mem,
      '',
      '| blob | SET+GET p50 ms | p99 ms |',
      '|---|---:|---:|',
      ...blobs,
      '',
    ].join('\n'),
  );
}

/**
 * The queue path's own cost, without the model's: one edit at a time on the test suite's analytic model
 * (a few ms of compute), local engine against an API node with one worker process.
 */
async function overhead(): Promise<void> {
  const n = SEQUENTIAL;
  const recipe = 'shift:0.8 steps:12';
  const models = { modelsDir: join(repoRoot, 'test', 'models'), defaultModel: 'analytic' };
  const run = async (client: EngineClient) => {
    const ms: number[] = [];
    for (let i = 0; i < n + 2; i++) {
      const t0 = performance.now();
      const { id } = await client.submit({ imageBase64: await image(1000 + i), recipe, owner: 'solo' });
      const final = await client.wait(id);
      if (final.state !== 'done') throw new Error(`overhead job ${final.state}`);
      if (i >= 2) ms.push(performance.now() - t0); // two warm-ups
    }
    return ms;
  };
  const localConfig = loadConfig({ root: repoRoot, env: {}, overrides: { ...models, dataDir: tempDir('asyrp-overhead-'), logLevel: 'warn', storage: { path: join(tempDir('asyrp-overhead-db-'), 'a.db') }, engine: { host: '127.0.0.1', port: 0, models: ['analytic'] } } });
  const local = await startEngineServer(localConfig);
  const localMs = await run(new EngineClient({ baseUrl: local.url }));
  await local.close();
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const api = await startClusterApi(config({ queue: 'redis', role: 'api' }), { redisUrl: redis.url });
  const child = startWorker(redis, 'overhead', null, { ASYRP_MODELS_DIR: models.modelsDir, ASYRP_DEFAULT_MODEL: 'analytic' });
  cleanups.push(() => stopWorkers([child]));
  await waitWorkers(api.url, 1);
  const clusterMs = await run(new EngineClient({ baseUrl: api.url }));
  await api.close();
  await stopWorkers([child]);
  await redis.stop();
  process.stdout.write(
    [
      `${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)}; analytic test model, \`${recipe}\`, ${n} edits one at a time (after 2 warm-ups)`,
      '',
      '| setup | p50 ms | mean ms | min ms |',
      '|---|---:|---:|---:|',
      `| local queue | ${median(localMs).toFixed(0)} | ${mean(localMs).toFixed(0)} | ${Math.min(...localMs).toFixed(0)} |`,
      `| redis queue, API node + 1 worker process | ${median(clusterMs).toFixed(0)} | ${mean(clusterMs).toFixed(0)} | ${Math.min(...clusterMs).toFixed(0)} |`,
      '',
      `Added by the queue path: ${(median(clusterMs) - median(localMs)).toFixed(0)} ms at the median, ${(Math.min(...clusterMs) - Math.min(...localMs)).toFixed(0)} ms at the minimum.`,
      '',
    ].join('\n'),
  );
}

/** What must not outlive the benchmark if it fails half way (a redis-server, worker processes). */
const cleanups: (() => Promise<void>)[] = [];
try {
  if (process.argv.includes('--overhead')) await overhead();
  else await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}
process.exit(0);
