import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { alphaBarAt, alphasCumprod, timestepSequence } from '../../src/engine/diffusion/schedule.js';
import { asyrpStep, ddimSigma } from '../../src/engine/diffusion/ddim-step.js';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { engineFixtures, readJson } from '../helpers/paths.js';

interface ScheduleFixture {
  betaStart: number;
  betaEnd: number;
  trainSteps: number;
  abarAt: { t: number; abar: number }[];
  abarAll: number[];
  sequences: { n: number; timesteps: number[] }[];
}
interface StepCase {
  name: string;
  t: number;
  tNext: number;
  eta: number;
  abarT: number;
  abarNext: number;
  sigma: number;
  xT: number[];
  eps: number[];
  epsEdit: number[];
  z: number[] | null;
  xNext: number[];
}

const schedule = readJson<ScheduleFixture>(join(engineFixtures, 'schedule.json'));
const steps = readJson<{ cases: StepCase[] }>(join(engineFixtures, 'step.json'));
const ab = alphasCumprod({ type: 'linear', betaStart: schedule.betaStart, betaEnd: schedule.betaEnd, trainSteps: schedule.trainSteps });

describe('schedule', () => {
  it('matches the float64 reference for every t, and ᾱ(−1) = 1', () => {
    for (let t = 0; t < 1000; t++) expect(Math.abs(ab[t]! - schedule.abarAll[t]!) / schedule.abarAll[t]!).toBeLessThan(1e-12);
    for (const { t, abar } of schedule.abarAt) expect(alphaBarAt(ab, t)).toBeCloseTo(abar, 14);
    expect(ab[0]).toBeCloseTo(0.9999, 12);
    expect(ab[999]).toBeCloseTo(4.04e-5, 6);
  });

  it('gives the official timestep sequences', () => {
    expect(timestepSequence(40).slice(0, 5)).toEqual([0, 25, 51, 76, 102]);
    expect(timestepSequence(40).at(-1)).toBe(999);
    for (const { n, timesteps } of schedule.sequences) expect(timestepSequence(n)).toEqual(timesteps);
    expect(() => timestepSequence(1)).toThrow(/≥ 2/);
  });
});

describe('asymmetric DDIM step', () => {
  it.each(steps.cases.map((c) => [c.name, c] as const))('%s matches the reference', (_name, c) => {
    const out = new Float32Array(c.xT.length);
    expect(ddimSigma({ alphaBar: c.abarT, alphaBarNext: c.abarNext, eta: c.eta })).toBeCloseTo(c.sigma, 12);
    asyrpStep(out, Float32Array.from(c.xT), Float32Array.from(c.eps), Float32Array.from(c.epsEdit), { alphaBar: c.abarT, alphaBarNext: c.abarNext, eta: c.eta }, c.z ? Float32Array.from(c.z) : null);
    c.xNext.forEach((v, i) => expect(Math.abs(out[i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });

  it('uses ε̃ only in P_t: with ε̃ = ε it is plain DDIM', () => {
    const x = Float32Array.from([0.3, -0.2]);
    const eps = Float32Array.from([0.1, 0.5]);
    const a = new Float32Array(2);
    const b = new Float32Array(2);
    const p = { alphaBar: 0.5, alphaBarNext: 0.8, eta: 0 };
    asyrpStep(a, x, eps, null, p, null);
    asyrpStep(b, x, eps, Float32Array.from(eps), p, null);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('seeded noise', () => {
  it('is bit-identical for a seed and differs between seeds', () => {
    const a = new GaussianRng(42).fillNormal(new Float32Array(1000));
    const b = new GaussianRng(42).fillNormal(new Float32Array(1000));
    const c = new GaussianRng(43).fillNormal(new Float32Array(1000));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('is standard normal', () => {
    const v = new GaussianRng(7).fillNormal(new Float32Array(200_000));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});
