/**
 * The h-net evaluated by onnxruntime (src/engine/onnx/h-net-session.ts, issue #30) against its JavaScript
 * definition (addHNet): the in-memory graph loads with the declared inputs and output, and f agrees on
 * random nets of several shapes and on a shipped direction's net, one row and many, several nets per row.
 *
 * Tolerance: onnxruntime sums the C-term and D-term dot products in float32 in its own order (blocked, with
 * FMA), addHNet eight terms at a time partly in float64, so f differs by rounding only: each dot product's
 * error is bounded by about n·2^-24 of the sum of its terms' magnitudes (n ≤ 128 here), and for random
 * signs it is ~√n·2^-24 of it. We allow 1e-5 · max|f| (≈ 170 float32 ulps of the largest value) on random nets,
 * and on a shipped one 1e-6 of its largest sum of term magnitudes (termScale: a trained f is a small difference
 * of large terms); a wrong operand order, a missing bias or a transposed weight is off by O(max|f|).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { loadDirection } from '../../src/engine/directions/direction-file.js';
import { addHNet, hNetBias, type HNet } from '../../src/engine/directions/h-net.js';
import { addHNetRows, type HNetRows } from '../../src/engine/directions/h-net-rows.js';
import type { EngineError } from '../../src/engine/errors.js';
import { HNetSession, addHNetRowsOrt, hNetModel } from '../../src/engine/onnx/h-net-session.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { repoRoot } from '../helpers/paths.js';

const opened: HNetSession[] = [];
afterAll(async () => {
  for (const s of opened) await s.release();
});

async function open(net: HNet, C: number): Promise<HNetSession> {
  const s = await HNetSession.open(net, C, { intraOpThreads: 2 });
  opened.push(s);
  return s;
}

function normal(n: number, seed: number, scale = 1): Float32Array {
  const a = new GaussianRng(seed).fillNormal(new Float32Array(n));
  for (let i = 0; i < n; i++) a[i]! *= scale;
  return a;
}

function randomNet(D: number, E: number, C: number, seed: number, kernel = 1): HNet {
  const k2 = kernel * kernel;
  return { hidden: D, embed: E, ...(kernel > 1 ? { kernel } : {}), w1: normal(D * C * k2, seed, 1 / Math.sqrt(C * k2)), b1: normal(D, seed + 1, 0.3), wt: normal(D * E, seed + 2, 0.3), w2: normal(C * D, seed + 3, 1 / Math.sqrt(D)) };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * The largest sum of term magnitudes f's rounding is relative to, for a per-position net: for each output
 * Σ_j |W2_ij| · (|a_j| + 1.1 · Σ_c |W1_jc · h_c| + |bias_j|), a_j = SiLU(pre_j) the hidden value, so the second
 * layer's terms and the first layer's (through SiLU's slope, at most 1.1) are both counted. A trained net's f can
 * be a small difference of large terms, where max|f| understates what float32 rounds.
 */
function termScale(net: HNet, h: Float32Array, ts: readonly number[], hs: readonly [number, number, number]): number {
  expect(net.kernel ?? 1).toBe(1);
  const [C, H, W] = hs;
  const P = H * W;
  const D = net.hidden;
  let worst = 0;
  const weight = new Float64Array(D);
  ts.forEach((t, r) => {
    const bias = hNetBias(net, t);
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < D; j++) {
        let pre = bias[j]!;
        let mag = Math.abs(bias[j]!);
        for (let c = 0; c < C; c++) {
          const term = net.w1[j * C + c]! * h[r * C * P + c * P + p]!;
          pre += term;
          mag += Math.abs(term);
        }
        weight[j] = Math.abs(pre / (1 + Math.exp(-pre))) + 1.1 * mag;
      }
      for (let i = 0; i < C; i++) {
        let sum = 0;
        for (let j = 0; j < D; j++) sum += Math.abs(net.w2[i * D + j]!) * weight[j]!;
        worst = Math.max(worst, sum);
      }
    }
  });
  return worst;
}

/** f of each row by addHNet, concatenated. */
function reference(net: HNet, h: Float32Array, ts: readonly number[], hs: readonly [number, number, number]): Float32Array {
  const size = hs[0] * hs[1] * hs[2];
  const f = new Float32Array(ts.length * size);
  ts.forEach((t, r) => addHNet(net, h.subarray(r * size, (r + 1) * size), t, 1, hs, f.subarray(r * size, (r + 1) * size)));
  return f;
}

describe('h-net graph in onnxruntime', () => {
  it('is a loadable model with inputs h [rows, C, positions], bias [rows, D, 1] and output f', async () => {
    const net = randomNet(12, 8, 20, 1);
    const session = await ort.InferenceSession.create(hNetModel(net, 20));
    try {
      const inputs = session.inputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : m.name));
      expect(inputs).toEqual([
        { name: 'h', type: 'float32', shape: ['rows', 20, 'positions'] },
        { name: 'bias', type: 'float32', shape: ['rows', 12, 1] },
      ]);
      const out = session.outputMetadata[0]!;
      expect(out.isTensor && { name: out.name, type: out.type, shape: [...out.shape] }).toEqual({ name: 'f', type: 'float32', shape: ['rows', 20, 'positions'] });
    } finally {
      await session.release();
    }
  });

  it('gives addHNet’s f on random nets (D not a multiple of 8, one row and many)', async () => {
    for (const [D, E, hs, N] of [
      [5, 4, [20, 3, 5], 1],
      [32, 64, [128, 16, 16], 16],
      [64, 16, [128, 16, 16], 3],
    ] as const) {
      const net = randomNet(D, E, hs[0], D);
      const size = hs[0] * hs[1] * hs[2];
      const h = normal(N * size, 100 + D, 2);
      const ts = Array.from({ length: N }, (_, r) => 37 + r * 61);
      const want = reference(net, h, ts, hs);
      const got = await (await open(net, hs[0])).f(h.slice(), ts, [hs[1], hs[2]]);
      expect(maxAbs(want)).toBeGreaterThan(0.1);
      expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
    }
  });

  it('builds a kernel net as Conv nodes over h [rows, C, height, width] and gives addHNet’s f (K 3 and 5, h not square)', async () => {
    const conv = randomNet(12, 8, 20, 1, 3);
    const session = await ort.InferenceSession.create(hNetModel(conv, 20));
    try {
      expect(session.inputMetadata.map((m) => (m.isTensor ? [m.name, [...m.shape]] : m.name))).toEqual([
        ['h', ['rows', 20, 'height', 'width']],
        ['bias', ['rows', 12, 1, 1]],
      ]);
    } finally {
      await session.release();
    }
    for (const [D, E, K, hs, N] of [
      [5, 4, 3, [20, 3, 5], 1],
      [64, 32, 3, [128, 16, 16], 4],
      [9, 6, 5, [16, 6, 4], 2],
    ] as const) {
      const net = randomNet(D, E, hs[0], D + K, K);
      const size = hs[0] * hs[1] * hs[2];
      const h = normal(N * size, 200 + D, 2);
      const ts = Array.from({ length: N }, (_, r) => 41 + r * 173);
      const want = reference(net, h, ts, hs);
      const got = await (await open(net, hs[0])).f(h.slice(), ts, [hs[1], hs[2]]);
      expect(maxAbs(want)).toBeGreaterThan(0.1);
      expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
    }
  });

  it('gives addHNet’s f on a shipped direction’s net (toyfaces-32 eyes-closed)', async () => {
    const pkg = readModelPackage(join(repoRoot, 'models', 'toyfaces-32'));
    const hs = pkg.manifest.hspace;
    const net = loadDirection(join(pkg.dir, pkg.manifest.directions), 'eyes-closed', hs).hNet;
    expect(net).toBeDefined();
    const size = hs[0] * hs[1] * hs[2];
    const ts = [980, 640, 301, 20];
    const h = normal(ts.length * size, 7, 1.5);
    const want = reference(net!, h, ts, hs);
    const got = await (await open(net!, hs[0])).f(h.slice(), ts, [hs[1], hs[2]]);
    expect(maxAbs(want)).toBeGreaterThan(0);
    // A trained net cancels: the eyes-closed of 2026-12-08 gives max|f| 0.063 from term sums of ~230, so its
    // rounding is bounded relative to those (1e-6 of them, ~17 float32 ulps), not to max|f|.
    const scale = termScale(net!, h, ts, hs);
    expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-6 * scale);
    // Still far below what a wrong operand, bias or weight would be off by.
    expect(1e-6 * scale).toBeLessThan(0.01 * maxAbs(want));
  });

  it('adds the rows’ terms as addHNetRows does, each net once for the rows that use it, and refuses misfits by name', async () => {
    const hs = [24, 4, 4] as const;
    const size = hs[0] * hs[1] * hs[2];
    const [n1, n2] = [randomNet(8, 8, 24, 3), randomNet(6, 4, 24, 9)];
    const batch: HNetRows = {
      h: normal(3 * size, 5),
      rows: [
        { row: 3, t: 500, terms: [{ net: n1, weight: 1.5 }, { net: n2, weight: -0.5 }] },
        { row: 0, t: 120, terms: [{ net: n2, weight: 2 }] },
        { row: 1, t: 800, terms: [{ net: n1, weight: 0 }] },
      ],
    };
    const base = normal(4 * size, 11, 0.1);
    const want = base.slice();
    addHNetRows(batch, want, hs);
    const got = base.slice();
    const calls: HNet[] = [];
    const sessions = new Map([[n1, await open(n1, 24)], [n2, await open(n2, 24)]]);
    await addHNetRowsOrt(batch, got, hs, async (net) => (calls.push(net), sessions.get(net)!));
    expect(calls).toEqual([n1, n2]);
    expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
    // Row 1's only term has weight 0, row 2 has none: untouched.
    expect(maxDiff(got.subarray(size, 3 * size), base.subarray(size, 3 * size))).toBe(0);

    const fail = (b: HNetRows) => addHNetRowsOrt(b, base.slice(), hs, async (net) => sessions.get(net)!).then(() => null, (e: unknown) => e as EngineError);
    expect((await fail({ h: batch.h, rows: [{ row: 4, t: 1, terms: [{ net: n1, weight: 1 }] }, ...batch.rows.slice(1)] }))?.code).toBe('INFERENCE_FAILED');
    expect((await fail({ h: batch.h.subarray(1), rows: batch.rows }))?.code).toBe('INFERENCE_FAILED');
    expect((await fail({ h: batch.h.subarray(0, size), rows: [{ row: 0, t: 1, terms: [{ net: { ...n1, w2: n1.w2.subarray(1) }, weight: 1 }] }] }))?.code).toBe('DIRECTION_INVALID');
  });
});
