/**
 * Directions with the paper's nonlinear f_t(h, t) (h-net.ts): the engine computes what the training tools
 * computed (a fixture written by tools/asyrp_tools/hnet.py), the file round-trips and refuses broken nets
 * by name, and the plan adds s · d · f(h_prev, t) only once h of a previous step exists.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDirection, encodeDirection } from '../../src/engine/directions/direction-file.js';
import { addHNet, encodeHNet, timestepEmbedding, type HNet } from '../../src/engine/directions/h-net.js';
import { serializeSafetensors, type StoredTensor } from '../../src/engine/directions/safetensors.js';
import { planEdit } from '../../src/engine/pipeline/edit-plan.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { codeOf } from '../helpers/engine-error.js';
import { engineFixtures, testModels } from '../helpers/paths.js';

interface Fixture {
  hspace: [number, number, number];
  hidden: number;
  embed: number;
  hnet_w1: number[];
  hnet_b1: number[];
  hnet_wt: number[];
  hnet_w2: number[];
  h: number[];
  cases: { t: number; f: number[] }[];
}

const fx = JSON.parse(readFileSync(join(engineFixtures, 'h-net.json'), 'utf8')) as Fixture;
const hs = fx.hspace;
const size = hs[0] * hs[1] * hs[2];
const net: HNet = {
  hidden: fx.hidden,
  embed: fx.embed,
  w1: Float32Array.from(fx.hnet_w1),
  b1: Float32Array.from(fx.hnet_b1),
  wt: Float32Array.from(fx.hnet_wt),
  w2: Float32Array.from(fx.hnet_w2),
};

function file(extra: Record<string, StoredTensor>): Uint8Array {
  return serializeSafetensors({
    delta_h: { dtype: 'F32', shape: [1, ...hs], data: new Float32Array(size) },
    timesteps: { dtype: 'I32', shape: [1], data: Int32Array.from([0]) },
    ...extra,
  });
}

describe('h-net: the computation', () => {
  it('matches f(h, t) as the training tools compute it, at several t', () => {
    const h = Float32Array.from(fx.h);
    for (const c of fx.cases) {
      const got = addHNet(net, h, c.t, 1, hs, new Float32Array(size));
      c.f.forEach((want, i) => expect(got[i]!).toBeCloseTo(want, 5));
    }
    // The t matters (the embedding), and the result is scaled by the weight and added.
    expect(fx.cases[0]!.f).not.toEqual(fx.cases[2]!.f);
    const twice = addHNet(net, h, 614, -2, hs, new Float32Array(size).fill(1));
    fx.cases[1]!.f.forEach((f, i) => expect(twice[i]!).toBeCloseTo(1 - 2 * f, 5));
  });

  it('gives f(h, t) by its definition for nets wider than its eight-row blocks (C 19, D 11: blocks and remainders)', () => {
    const [C, H, W, D, E] = [19, 3, 2, 11, 4];
    const P = H * W;
    let seed = 7;
    const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5);
    const wide: HNet = { hidden: D, embed: E, w1: rand(D * C), b1: rand(D), wt: rand(D * E), w2: rand(C * D) };
    const h = rand(C * P);
    // The definition, one term at a time: f[c,p] = Σ_d W2[c,d] · SiLU(Σ_k W1[d,k] h[k,p] + b1[d] + Σ_j Wt[d,j] e_j).
    const e = timestepEmbedding(333, E);
    const want = new Float64Array(C * P);
    for (let p = 0; p < P; p++) {
      for (let d = 0; d < D; d++) {
        let z = wide.b1[d]!;
        for (let j = 0; j < E; j++) z += wide.wt[d * E + j]! * e[j]!;
        for (let k = 0; k < C; k++) z += wide.w1[d * C + k]! * h[k * P + p]!;
        const silu = z / (1 + Math.exp(-z));
        for (let c = 0; c < C; c++) want[c * P + p]! += wide.w2[c * D + d]! * silu;
      }
    }
    const got = addHNet(wide, h, 333, 0.5, [C, H, W], new Float32Array(C * P).fill(2));
    want.forEach((f, i) => expect(got[i]!).toBeCloseTo(2 + 0.5 * f, 5));
  });

  it('matches a 3×3-kernel net as the training tools compute it (h 3×4: edges, corners, rows not swapped)', () => {
    const cx = JSON.parse(readFileSync(join(engineFixtures, 'h-net-conv.json'), 'utf8')) as Fixture & { kernel: number };
    expect(cx.kernel).toBe(3);
    const conv: HNet = {
      hidden: cx.hidden, embed: cx.embed, kernel: cx.kernel,
      w1: Float32Array.from(cx.hnet_w1), b1: Float32Array.from(cx.hnet_b1), wt: Float32Array.from(cx.hnet_wt), w2: Float32Array.from(cx.hnet_w2),
    };
    const chs = cx.hspace;
    const n = chs[0] * chs[1] * chs[2];
    const h = Float32Array.from(cx.h);
    for (const c of cx.cases) {
      const got = addHNet(conv, h, c.t, 1, chs, new Float32Array(n));
      c.f.forEach((want, i) => expect(got[i]!).toBeCloseTo(want, 5));
    }
    // The neighbours matter: the same weights at the centre tap alone give another f.
    const centre = Float32Array.from(conv.w1, (v, i) => (i % 9 === 4 ? v : 0));
    const alone = addHNet({ ...conv, w1: centre }, h, 300, 1, chs, new Float32Array(n));
    expect(Math.max(...alone.map((v, i) => Math.abs(v - cx.cases[0]!.f[i]!)))).toBeGreaterThan(1e-2);
    // And that centre tap alone is the per-position net with those weights.
    const perPosition: HNet = { ...conv, kernel: 1, w1: Float32Array.from({ length: conv.hidden * chs[0] }, (_, i) => centre[i * 9 + 4]!) };
    const same = addHNet(perPosition, h, 300, 1, chs, new Float32Array(n));
    same.forEach((v, i) => expect(v).toBeCloseTo(alone[i]!, 6));
  });

  it('uses the DDPM sinusoidal embedding', () => {
    const e = timestepEmbedding(500, 4);
    expect(Array.from(e)).toEqual([Math.sin(500), Math.sin(5), Math.cos(500), Math.cos(5)].map(Math.fround));
  });
});

describe('h-net: the file', () => {
  it('round-trips the net and leaves directions without one alone', () => {
    const bytes = encodeDirection({ meta: { name: 'n', description: '' }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(size), hNet: net, hspace: hs });
    const d = decodeDirection(bytes, 'n.safetensors', hs);
    expect(d.hNet!.hidden).toBe(fx.hidden);
    expect(d.hNet!.embed).toBe(fx.embed);
    expect(Array.from(d.hNet!.w2)).toEqual(Array.from(net.w2));
    expect(decodeDirection(file({}), 'plain', hs).hNet).toBeUndefined();
  });

  it('round-trips a 3×3-kernel net as hnet_w1 [D,C,3,3], and refuses an even kernel', () => {
    const D = fx.hidden;
    const conv: HNet = { ...net, kernel: 3, w1: Float32Array.from({ length: D * hs[0] * 9 }, (_, i) => Math.sin(i)) };
    const t = encodeHNet(conv, hs[0]);
    expect(t.hnet_w1.shape).toEqual([D, hs[0], 3, 3]);
    expect(encodeHNet(net, hs[0]).hnet_w1.shape).toEqual([D, hs[0]]);
    const d = decodeDirection(file(t), 'k', hs).hNet!;
    expect(d.kernel).toBe(3);
    expect(Array.from(d.w1)).toEqual(Array.from(conv.w1));
    expect(decodeDirection(file(encodeHNet(net, hs[0])), 'p', hs).hNet!.kernel ?? 1).toBe(1);
    const even = { ...t, hnet_w1: { dtype: 'F32' as const, shape: [D, hs[0], 2, 2], data: new Float32Array(D * hs[0] * 4) } };
    expect(codeOf(() => decodeDirection(file(even), 'e', hs))).toBe('DIRECTION_INVALID');
    expect(() => decodeDirection(file(even), 'e', hs)).toThrow(/\[D,C,K,K\] with K odd/);
  });

  it('refuses a partial net, shapes that do not fit, another model, and NaN, each by name', () => {
    const t = encodeHNet(net, hs[0]);
    const { hnet_wt: _wt, ...partial } = t;
    expect(() => decodeDirection(file(partial), 'p', hs)).toThrow(/p: an h-net needs .*; missing hnet_wt/);
    const badB1 = { ...t, hnet_b1: { dtype: 'F32' as const, shape: [fx.hidden + 1], data: new Float32Array(fx.hidden + 1) } };
    expect(codeOf(() => decodeDirection(file(badB1), 'b', hs))).toBe('DIRECTION_INVALID');
    expect(() => decodeDirection(file(badB1), 'b', hs)).toThrow(/h-net shapes do not fit together: .*b1 \[6\]/);
    const odd = { ...t, hnet_wt: { dtype: 'F32' as const, shape: [fx.hidden, 3], data: new Float32Array(fx.hidden * 3) } };
    expect(() => decodeDirection(file(odd), 'o', hs)).toThrow(/E even/);
    const other: [number, number, number] = [4, hs[1], hs[2]];
    const forOther = serializeSafetensors({
      delta_h: { dtype: 'F32', shape: [1, ...other], data: new Float32Array(4 * hs[1] * hs[2]) },
      timesteps: { dtype: 'I32', shape: [1], data: Int32Array.from([0]) },
      ...t,
    });
    expect(codeOf(() => decodeDirection(forOther, 'm', other))).toBe('MODEL_MISMATCH');
    expect(() => decodeDirection(forOther, 'm', other)).toThrow(/the h-net is for 3 channels but this model's h-space has 4/);
    const nan = { ...t, hnet_w1: { ...t.hnet_w1, data: Float32Array.from(net.w1, (v, i) => (i === 2 ? NaN : v)) } };
    expect(() => decodeDirection(file(nan), 'x', hs)).toThrow(/hnet_w1 holds NaN/);
    const ints = { ...t, hnet_b1: { dtype: 'I32' as const, shape: [fx.hidden], data: new Int32Array(fx.hidden) } };
    expect(() => decodeDirection(file(ints), 'i', hs)).toThrow(/hnet_b1 must be float32; got I32/);
  });
});

describe('h-net: the plan', () => {
  const manifest = readModelPackage(join(testModels, 'tiny-unet')).manifest;
  const mhs = manifest.hspace;
  const C = mhs[0];
  const P = mhs[1] * mhs[2];
  const D = 4;
  const E = 8;
  const wave = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 0.4);
  const mnet: HNet = { hidden: D, embed: E, w1: wave(D * C, 1.3), b1: wave(D, 2.1), wt: wave(D * E, 0.7), w2: wave(C * D, 1.9) };
  const base = Array.from({ length: C * P }, (_, i) => (i % 5) / 10);
  const bytes = encodeDirection({ meta: { name: 'n', description: '', defaultStrength: 2 }, timesteps: Int32Array.from([0]), deltaH: Float32Array.from(base), hNet: mnet, hspace: mhs });
  const dirs = { n: decodeDirection(bytes, 'n', mhs) };
  const plan = (text: string) => planEdit(manifest, parseRecipe(text, { directions: ['n'] }), (k) => dirs[k as 'n']);
  const h = Float32Array.from({ length: C * P }, (_, i) => Math.cos(i / 2));

  it('adds s · d · f(h_prev, t), and only Δh_t at the first step', () => {
    const p = plan('n:0.5');
    expect(p.hDependent).toBe(true);
    const f = addHNet(mnet, h, 700, 1, mhs, new Float32Array(C * P));
    const got = p.deltaHAt(700, h)!;
    base.forEach((b, i) => expect(got[i]!).toBeCloseTo(0.5 * 2 * (b + f[i]!), 5));
    expect(Array.from(p.deltaHAt(700, null)!)).toEqual(base.map((b) => Math.fround(b)));
    // The same h at another t gives another shift: the net sees the timestep.
    expect(Array.from(p.deltaHAt(900, h)!)).not.toEqual(Array.from(got));
  });
});
