/**
 * Directions with an h-dependent part (h_gain G: Δh_t + G·h, h of the previous generation step): the file
 * format, the plan's sum, and the trajectory feeding each step the h the UNet returned one step before,
 * through the real analytic model in onnxruntime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeDirection, encodeDirection, type Direction } from '../../src/engine/directions/direction-file.js';
import { serializeSafetensors } from '../../src/engine/directions/safetensors.js';
import { planEdit } from '../../src/engine/pipeline/edit-plan.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { generationTrajectory, inversionTrajectory } from '../../src/engine/pipeline/run-edit.js';
import { runToCompletion, type UNet } from '../../src/engine/diffusion/batch-runner.js';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { codeOf } from '../helpers/engine-error.js';
import { testModels } from '../helpers/paths.js';

type HS = readonly [number, number, number];

function make(hs: HS, base: number[], gain: number[] | undefined, meta: Record<string, string | number> = {}): Direction {
  const bytes = encodeDirection({
    meta: { name: 'g', description: 'test', ...meta },
    timesteps: Int32Array.from([0]),
    deltaH: Float32Array.from(base),
    ...(gain ? { hGain: Float32Array.from(gain) } : {}),
    hspace: hs,
  });
  return decodeDirection(bytes, 'g.safetensors', hs);
}

/** Independent G·h: h [C,P] channel-major, G [C,C] row-major (out, in). */
function gainTimesH(g: ArrayLike<number>, h: ArrayLike<number>, C: number, P: number): number[] {
  const out = new Array<number>(C * P).fill(0);
  for (let o = 0; o < C; o++) for (let i = 0; i < C; i++) for (let p = 0; p < P; p++) out[o * P + p]! += g[o * C + i]! * h[i * P + p]!;
  return out;
}

describe('h-dependent directions: the file', () => {
  const hs: HS = [2, 1, 2];

  it('round-trips h_gain and keeps global directions without one', () => {
    const d = make(hs, [1, 2, 3, 4], [0.5, -1, 2, 0.25]);
    expect(Array.from(d.hGain!)).toEqual([0.5, -1, 2, 0.25]);
    expect(make(hs, [1, 2, 3, 4], undefined).hGain).toBeUndefined();
  });

  it('refuses an h_gain for another h-space, or holding NaN, by name', () => {
    const badGain = serializeSafetensors({
      delta_h: { dtype: 'F32', shape: [1, 2, 1, 2], data: new Float32Array(4) },
      timesteps: { dtype: 'I32', shape: [1], data: Int32Array.from([0]) },
      h_gain: { dtype: 'F32', shape: [3, 3], data: new Float32Array(9) },
    });
    expect(codeOf(() => decodeDirection(badGain, 'w', hs))).toBe('MODEL_MISMATCH');
    expect(() => decodeDirection(badGain, 'w', hs)).toThrow(/h_gain has shape \[3,3\] but this model's h-space needs \[2,2\]/);
    const half = serializeSafetensors({
      delta_h: { dtype: 'F32', shape: [1, 2, 1, 2], data: new Float32Array(4) },
      timesteps: { dtype: 'I32', shape: [1], data: Int32Array.from([0]) },
      h_gain: { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) },
    });
    expect(() => decodeDirection(half, 'i', hs)).toThrow(/h_gain must be float32 \[C,C\]; got I32/);
    const nan = encodeDirection({ meta: { name: 'g', description: '' }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(4), hGain: Float32Array.from([0, NaN, 0, 0]), hspace: hs });
    expect(() => decodeDirection(nan, 'n', hs)).toThrow(/h_gain holds NaN/);
  });
});

describe('h-dependent directions: the plan', () => {
  const manifest = readModelPackage(join(testModels, 'tiny-unet')).manifest;
  const hs = manifest.hspace;
  const [C, H, W] = hs;
  const P = H * W;
  const size = C * P;
  const base = Array.from({ length: size }, (_, i) => (i % 7) / 10);
  const gain = Array.from({ length: C * C }, (_, i) => ((i * 37) % 11) / 10 - 0.5);
  const dirs: Record<string, Direction> = { g: make(hs, base, gain, { defaultStrength: 2 }), flat: make(hs, new Array(size).fill(1), undefined) };
  const plan = (text: string) => planEdit(manifest, parseRecipe(text, { directions: Object.keys(dirs) }), (n) => dirs[n]!);
  const h = Float32Array.from({ length: size }, (_, i) => Math.sin(i));

  it('adds s · d · G·h_prev to s · d · Δh_t, and only Δh_t at the first step', () => {
    const p = plan('g:0.5 flat:-1');
    expect(p.hDependent).toBe(true);
    expect(plan('flat').hDependent).toBe(false);
    const gh = gainTimesH(gain, h, C, P);
    const want = base.map((b, i) => 0.5 * 2 * (b + gh[i]!) - 1);
    const got = p.deltaHAt(800, h)!;
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
    const first = p.deltaHAt(800, null)!;
    base.forEach((b, i) => expect(first[i]).toBeCloseTo(b - 1, 5));
  });

  it('does not serve a stale Δh when h changes at the same t', () => {
    const p = plan('g');
    const a = Array.from(p.deltaHAt(800, h)!);
    const h2 = Float32Array.from(h, (v) => -v);
    const b = Array.from(p.deltaHAt(800, h2)!);
    expect(b).not.toEqual(a);
  });
});

describe('h-dependent directions: generation on the analytic model', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.open(readModelPackage(join(testModels, 'analytic')), { provider: 'cpu' });
  });
  afterAll(async () => model?.close());

  it('feeds each editing step Δh_t + G·h of the step before, and the gain changes the result', async () => {
    const hs = model.manifest.hspace;
    const [C, H, W] = hs;
    const P = H * W;
    const base = new Array<number>(C * P).fill(0.05);
    const gain = Array.from({ length: C * C }, (_, i) => (i % (C + 1) === 0 ? 0.3 : -0.1));
    const dirs: Record<string, Direction> = { g: make(hs, base, gain), z: make(hs, base, new Array(C * C).fill(0)) };
    const plan = (name: string) => planEdit(model.manifest, parseRecipe(`${name} t_edit:500 t_boost:0 steps:10`, { directions: Object.keys(dirs) }), (n) => dirs[n]!);
    const tMax = model.manifest.schedule.trainSteps - 1;
    const x0 = Float32Array.from({ length: model.unet.sampleSize }, (_, i) => Math.cos(i / 3) * 0.8);
    const inv = inversionTrajectory(x0, plan('g'), model.alphasBar, tMax);
    await runToCompletion(model.unet, [inv]);

    const seen: { t: number; deltaH: Float32Array | null; h: Float32Array }[] = [];
    const recording: UNet = {
      sampleSize: model.unet.sampleSize,
      hSize: model.unet.hSize,
      run: async (x, t, deltaH, batch, edited) => {
        const out = await model.unet.run(x, t, deltaH, batch, edited);
        seen.push({ t: t[0]!, deltaH: edited ? Float32Array.from(deltaH) : null, h: Float32Array.from(out.h) });
        return out;
      },
    };
    const gen = generationTrajectory(inv.x, plan('g'), model.alphasBar, tMax);
    await runToCompletion(recording, [gen]);
    const edited = seen.filter((s) => s.deltaH);
    expect(edited.length).toBeGreaterThan(2);
    expect(Array.from(edited[0]!.deltaH!)).toEqual(base.map((b) => Math.fround(b)));
    for (let k = 1; k < edited.length; k++) {
      const prevH = seen[seen.indexOf(edited[k]!) - 1]!.h;
      const gh = gainTimesH(gain, prevH, C, P);
      const want = base.map((b, i) => b + gh[i]!);
      let worst = 0;
      want.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - edited[k]!.deltaH![i]!))));
      expect(worst).toBeLessThan(1e-5);
    }
    const zero = generationTrajectory(inv.x, plan('z'), model.alphasBar, tMax);
    await runToCompletion(model.unet, [zero]);
    let diff = 0;
    for (let i = 0; i < gen.x.length; i++) diff = Math.max(diff, Math.abs(gen.x[i]! - zero.x[i]!));
    expect(diff).toBeGreaterThan(1e-3);
  });
});
