/**
 * `asyrp bench service [--model <id>] [--steps n] [--concurrency 1,4,16]`: edits per minute through the
 * engine service with N jobs in flight, one at a time (maxBatch 1) against batched (continuous batching),
 * in one run; and a cache-hit re-edit's time as a fraction of a cold edit.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { BENCH_SERVICE } from '../command-specs.js';
import { reportEngineError } from '../report-error.js';
import { startEngineServer } from '../../engine/service/start-engine-server.js';
import { EngineClient } from '../../engine/client/engine-client.js';
import { encodePng } from '../../engine/image/image-io.js';
import { GaussianRng } from '../../engine/diffusion/gaussian-rng.js';

interface Row {
  readonly concurrency: number;
  readonly mode: 'sequential' | 'batched';
  readonly seconds: number;
  readonly perMinute: number;
}

async function noiseImage(seed: number, size: number): Promise<string> {
  const rng = new GaussianRng(seed);
  const data = new Uint8Array(size * size * 3).map(() => Math.max(0, Math.min(255, Math.round(128 + 40 * rng.nextNormal()))));
  return (await encodePng({ data, width: size, height: size })).toString('base64');
}

export async function benchServiceCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, BENCH_SERVICE.flags);
  const levels = String(flags.concurrency ?? '1,4,16').split(',').map(Number);
  if (!levels.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) throw new UsageError('--concurrency takes whole numbers from 1 to 64, comma-separated');
  const steps = flags.steps === undefined ? undefined : Number(flags.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 2 || steps > 1000)) throw new UsageError('--steps must be 2..1000');
  const dataDir = mkdtempSync(join(tmpdir(), 'asyrp-bench-'));
  const rows: Row[] = [];
  try {
    const run = async (maxBatch: number) => {
      const config = {
        ...ctx.config,
        dataDir: join(dataDir, `b${maxBatch}`),
        storage: { ...ctx.config.storage, path: join(dataDir, `b${maxBatch}.db`) },
        engine: { ...ctx.config.engine, port: 0, host: '127.0.0.1', token: null, maxBatch, maxRunningPerOwner: 64, maxQueuedPerOwner: 1000, maxQueued: 1000, ...(flags.model ? { models: [flags.model as string] } : {}) },
        ...(flags.model ? { defaultModel: flags.model as string } : {}),
      };
      return startEngineServer(config);
    };
    const seq = await run(1);
    const bat = await run(Math.max(...levels));
    const model = (await new EngineClient({ baseUrl: seq.url }).models()).models.find((m) => m.isDefault)!;
    const direction = model.directions[0]?.name;
    const recipe = `${direction ? `${direction}:0.8 ` : ''}${steps ? `steps:${steps}` : ''}`.trim();
    const images = await Promise.all(Array.from({ length: Math.max(...levels) }, (_, i) => noiseImage(i + 1, model.resolution)));
    // Warm-up: first calls allocate onnxruntime's arenas.
    for (const s of [seq, bat]) {
      const c = new EngineClient({ baseUrl: s.url });
      await c.wait((await c.submit({ imageBase64: await noiseImage(999, model.resolution), recipe, owner: 'warm' })).id);
    }
    let round = 0;
    for (const n of levels) {
      for (const [mode, server] of [['sequential', seq], ['batched', bat]] as const) {
        const client = new EngineClient({ baseUrl: server.url });
        round++;
        const t0 = performance.now();
        // Different seeds each round so the inversion cache never short-cuts the measurement.
        const ids = await Promise.all(images.slice(0, n).map((img, i) => client.submit({ imageBase64: img, recipe: `${recipe} seed:${round * 100 + i}`, owner: `o${i}`, idempotencyKey: `r${round}-${i}` })));
        await Promise.all(ids.map((j) => client.wait(j.id)));
        const seconds = (performance.now() - t0) / 1000;
        rows.push({ concurrency: n, mode, seconds, perMinute: (n / seconds) * 60 });
      }
    }
    // Cold edit of a new image, then a re-edit of the same image (its inversion comes from the cache).
    const client = new EngineClient({ baseUrl: seq.url });
    const fresh = await noiseImage(4242, model.resolution);
    let t0 = performance.now();
    await client.wait((await client.submit({ imageBase64: fresh, recipe, owner: 'c' })).id);
    const cold = performance.now() - t0;
    t0 = performance.now();
    const hit = await client.wait((await client.submit({ imageBase64: fresh, recipe: `${recipe} seed:5`, owner: 'c' })).id);
    const warm = performance.now() - t0;
    await seq.close();
    await bat.close();

    const result = { model: model.id, recipe, rows, cacheHit: { coldMs: cold, reEditMs: warm, fraction: warm / cold, cacheHit: hit.cacheHit } };
    if (flags.json) ctx.out.write(JSON.stringify(result, null, 2) + '\n');
    else {
      ctx.out.write(`model ${model.id}, recipe "${recipe}"\n\n| jobs in flight | sequential edits/min | batched edits/min | batched/sequential |\n|---:|---:|---:|---:|\n`);
      for (const n of levels) {
        const s = rows.find((r) => r.concurrency === n && r.mode === 'sequential')!;
        const b = rows.find((r) => r.concurrency === n && r.mode === 'batched')!;
        ctx.out.write(`| ${n} | ${s.perMinute.toFixed(1)} | ${b.perMinute.toFixed(1)} | ${(b.perMinute / s.perMinute).toFixed(2)} |\n`);
      }
      ctx.out.write(`\ncache-hit re-edit: ${warm.toFixed(0)} ms vs cold ${cold.toFixed(0)} ms = ${(warm / cold).toFixed(2)} of a cold edit (target ≤ 0.55; cache hit: ${hit.cacheHit})\n`);
    }
    return 0;
  } catch (e) {
    return reportEngineError(ctx, 'bench service', e);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
