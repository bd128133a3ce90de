/**
 * A direction's h-net (f_t(h), h-net.ts) is evaluated where the UNet runs: in the inference worker in
 * worker mode, off the engine's event loop (issue #30), by onnxruntime (h-net-session.ts). On the tiny UNet
 * with a real worker: an h-net edit gives the inline path's output bit for bit (both run the same
 * onnxruntime graph), and within 1e-6 what evaluating the whole Δh_t on this thread with addHNet gives (a
 * per-position net and a 3×3-kernel one), a direction without a net sends no h-net rows, the worker holds each net once and drops it
 * with the model's release, a new worker after a crash gets the nets again, and bad rows fail typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToCompletion, type UNet } from '../../src/engine/diffusion/batch-runner.js';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { GenerationTrajectory } from '../../src/engine/diffusion/trajectory.js';
import { timestepSequence } from '../../src/engine/diffusion/schedule.js';
import { encodeDirection } from '../../src/engine/directions/direction-file.js';
import type { HNet } from '../../src/engine/directions/h-net.js';
import type { HNetRows } from '../../src/engine/directions/h-net-rows.js';
import { EngineError } from '../../src/engine/errors.js';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { InferenceHost } from '../../src/engine/onnx/inference-host.js';
import { planEdit, type EditPlan } from '../../src/engine/pipeline/edit-plan.js';
import { runEditBatch } from '../../src/engine/pipeline/run-edit.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { generationTrajectories } from '../../src/engine/service/job-trajectories.js';
import { tempDir, testModels } from '../helpers/paths.js';

const dir = tempDir('asyrp-hnet-worker-');
let host: InferenceHost;
let worker: LoadedModel;
let inline: LoadedModel;

function wave(n: number, k: number, a = 0.4): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * a);
}

beforeAll(async () => {
  // tiny-unet with two directions: `n` with an h-net, `plain` without.
  copyFileSync(join(testModels, 'tiny-unet', 'model.json'), join(dir, 'model.json'));
  copyFileSync(join(testModels, 'tiny-unet', 'unet.onnx'), join(dir, 'unet.onnx'));
  mkdirSync(join(dir, 'directions'));
  const pkg = readModelPackage(dir);
  const hs = pkg.manifest.hspace;
  const [C, H, W] = hs;
  const [D, E] = [12, 8];
  const net: HNet = { hidden: D, embed: E, w1: wave(D * C, 1.3), b1: wave(D, 2.1), wt: wave(D * E, 0.7), w2: wave(C * D, 1.9, 0.6) };
  const base = wave(C * H * W, 0.11, 0.5);
  const meta = (name: string) => ({ name, description: '' });
  writeFileSync(join(dir, 'directions', 'n.safetensors'), encodeDirection({ meta: meta('n'), timesteps: Int32Array.from([0]), deltaH: base, hNet: net, hspace: hs }));
  // `k`: a 3×3-kernel net (Conv nodes in onnxruntime); `c`: its centre taps alone as a per-position net.
  const kw1 = wave(D * C * 9, 0.9, 0.25);
  const k: HNet = { ...net, kernel: 3, w1: kw1 };
  const c: HNet = { ...net, w1: Float32Array.from({ length: D * C }, (_, i) => kw1[i * 9 + 4]!) };
  writeFileSync(join(dir, 'directions', 'k.safetensors'), encodeDirection({ meta: meta('k'), timesteps: Int32Array.from([0]), deltaH: base, hNet: k, hspace: hs }));
  writeFileSync(join(dir, 'directions', 'c.safetensors'), encodeDirection({ meta: meta('c'), timesteps: Int32Array.from([0]), deltaH: base, hNet: c, hspace: hs }));
  writeFileSync(join(dir, 'directions', 'plain.safetensors'), encodeDirection({ meta: meta('plain'), timesteps: Int32Array.from([0]), deltaH: base, hspace: hs }));
  host = new InferenceHost({ intraOpThreads: 1 });
  worker = await LoadedModel.open(pkg, { provider: 'cpu', inference: host });
  inline = await LoadedModel.open(pkg, { provider: 'cpu' });
});
afterAll(async () => {
  await worker?.close();
  await inline?.close();
  await host?.close();
});

function plan(model: LoadedModel, text: string): EditPlan {
  return planEdit(model.manifest, parseRecipe(`${text} steps:8`, { directions: ['n', 'k', 'c', 'plain'] }), (name) => model.direction(name));
}

/** Two images edited together (two h-net rows per call), x_T given so only generation runs. */
async function edit(model: LoadedModel, text: string, unet: UNet = model.unet): Promise<Float32Array[]> {
  const size = model.unet.sampleSize;
  const xTs = [new GaussianRng(5).fillNormal(new Float32Array(size)), new GaussianRng(6).fillNormal(new Float32Array(size))];
  return (await runEditBatch(unet, model.alphasBar, xTs, plan(model, text), { xTs })).x0s;
}

function same(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)));
}

/** The UNet as given, recording the h-net rows of each call. */
function recording(unet: UNet, seen: (HNetRows | undefined)[]): UNet {
  return {
    sampleSize: unet.sampleSize,
    hSize: unet.hSize,
    run: (x, t, deltaH, batch, edited, hNets) => {
      seen.push(hNets && { h: hNets.h.slice(), rows: hNets.rows });
      return unet.run(x, t, deltaH, batch, edited, hNets);
    },
  };
}

/**
 * The largest difference of `got` from the two images generated with the plan's whole Δh_t (h-net included,
 * by addHNet) evaluated on this thread and handed to the UNet as it is: the path before the worker.
 */
async function farFromThisThread(text: string, got: readonly Float32Array[]): Promise<number> {
  const p = plan(inline, text);
  const size = inline.unet.sampleSize;
  const seq = timestepSequence(p.generationSteps, inline.manifest.schedule.trainSteps - 1);
  const old = [5, 6].map((seed) => {
    const rng = new GaussianRng(p.seed);
    return new GenerationTrajectory(new GaussianRng(seed).fillNormal(new Float32Array(size)), seq, inline.alphasBar, { tEdit: p.tEdit, tBoost: p.tBoost, deltaHAt: p.deltaHAt, noise: (o) => rng.fillNormal(o) });
  });
  await runToCompletion(inline.unet, old);
  let worst = 0;
  old.forEach((tr, i) => tr.x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - got[i]![j]!)))));
  return worst;
}

describe('h-net in the inference worker', () => {
  it('gives the inline output bit for bit, evaluated in the worker, and what the whole Δh_t on this thread gives', async () => {
    const seen: (HNetRows | undefined)[] = [];
    const before = worker.unet.hNetMs;
    const a = await edit(worker, 'n:1.5', recording(worker.unet, seen));
    const b = await edit(inline, 'n:1.5');
    expect(same(a, b)).toBe(true);
    expect(worker.unet.hNetMs).toBeGreaterThan(before);
    // Editing steps after the first carry both images' rows; the first has no h of a previous step yet.
    const rows = seen.filter((s) => s !== undefined);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((s) => s.rows.length === 2 && s.rows[0]!.terms[0]!.weight !== 0)).toBe(true);
    expect(seen[0]).toBeUndefined();

    // The old path: the plan's whole Δh_t (h-net included) evaluated here, handed to the UNet as it is.
    expect(await farFromThisThread('n:1.5', a)).toBeLessThan(1e-6);
    // And the net matters: without it the image is another.
    expect(same(a, await edit(worker, 'plain:1.5'))).toBe(false);
  });

  it('scales the net with a job’s strengths in the worker as inline (one call, three rows)', async () => {
    const run = async (model: LoadedModel) => {
      const xT = new GaussianRng(9).fillNormal(new Float32Array(model.unet.sampleSize));
      const trs = generationTrajectories(xT, plan(model, 'n:1'), [1, -0.5, 2], model);
      await runToCompletion(model.unet, trs);
      return trs.map((tr) => tr.x);
    };
    expect(same(await run(worker), await run(inline))).toBe(true);
  });

  it('sends no h-net rows for a direction without a net, with the same output as inline', async () => {
    const seen: (HNetRows | undefined)[] = [];
    const a = await edit(worker, 'plain:1.5', recording(worker.unet, seen));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s === undefined)).toBe(true);
    expect(same(a, await edit(inline, 'plain:1.5'))).toBe(true);
  });

  it('loads a net once per worker, again into a new worker after a crash', async () => {
    await edit(worker, 'n:1');
    expect(host.hNetsInWorker).toBe(1);
    const want = await edit(inline, 'n:0.7');
    host.kill();
    // The worker's exit is an event: on a loaded machine it can take longer than any fixed pause.
    for (let waited = 0; host.hNetsInWorker !== 0 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(host.hNetsInWorker).toBe(0);
    expect(same(await edit(worker, 'n:0.7'), want)).toBe(true);
    expect(host.hNetsInWorker).toBe(1);
  });

  it('refuses rows that do not fit the batch with a typed error, in the worker and inline, and goes on', async () => {
    const net = worker.direction('n').hNet!;
    const { sampleSize, hSize } = worker.unet;
    const call = (model: LoadedModel, hNets: HNetRows) =>
      model.unet.run(new Float32Array(2 * sampleSize), Float32Array.from([600, 600]), new Float32Array(hSize), 2, 1, hNets).then(
        () => null,
        (e: unknown) => e,
      );
    for (const model of [worker, inline]) {
      const outside = await call(model, { h: new Float32Array(hSize), rows: [{ row: 1, t: 600, terms: [{ net, weight: 1 }] }] });
      expect(outside).toBeInstanceOf(EngineError);
      expect((outside as EngineError).code).toBe('INFERENCE_FAILED');
      expect((outside as EngineError).message).toMatch(/row 1 is not an edited row/);
      const short = await call(model, { h: new Float32Array(3), rows: [{ row: 0, t: 600, terms: [{ net, weight: 1 }] }] });
      expect((short as EngineError).code).toBe('INFERENCE_FAILED');
      const wrong: HNet = { ...net, w1: net.w1.subarray(1) };
      const misfit = await call(model, { h: new Float32Array(hSize), rows: [{ row: 0, t: 600, terms: [{ net: wrong, weight: 1 }] }] });
      expect((misfit as EngineError).code).toBe('DIRECTION_INVALID');
    }
    const restarts = host.restarts;
    expect(same(await edit(worker, 'n:1'), await edit(inline, 'n:1'))).toBe(true);
    expect(host.restarts).toBe(restarts);
  });

  it('runs a 3×3-kernel net in the worker as inline, as addHNet’s convolution on this thread, and its neighbours matter', async () => {
    const a = await edit(worker, 'k:1.5');
    expect(same(a, await edit(inline, 'k:1.5'))).toBe(true);
    expect(await farFromThisThread('k:1.5', a)).toBeLessThan(1e-6);
    expect(same(a, await edit(worker, 'c:1.5'))).toBe(false);
  });

  it('releases the worker’s h-nets with the model', async () => {
    const other = await LoadedModel.open(readModelPackage(dir), { provider: 'cpu', inference: host });
    await edit(worker, 'n:1');
    const held = host.hNetsInWorker;
    await edit(other, 'n:1');
    expect(host.hNetsInWorker).toBe(held + 1);
    await other.close();
    expect(host.hNetsInWorker).toBe(held);
    await worker.close();
    expect(host.hNetsInWorker).toBe(0);
  });
});
