/**
 * The noise schedule and timestep sequences, matching the official Asyrp implementation (docs/method.md §1.1,
 * §1.6): linear β in float64, ᾱ_t = Π_{s≤t} (1 − β_s), and uniform-skip integer timesteps.
 */
import { EngineError } from '../errors.js';

export interface ScheduleConfig {
  readonly type: 'linear';
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly trainSteps: number;
}

/** ᾱ_t for t = 0..T−1, computed in float64 (DDPM Eq. 4's cumulative product). */
export function alphasCumprod(cfg: ScheduleConfig): Float64Array {
  const T = cfg.trainSteps;
  const out = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    // numpy.linspace(betaStart, betaEnd, T): start + t·step, with the last value exactly betaEnd.
    const beta = t === T - 1 ? cfg.betaEnd : cfg.betaStart + (t * (cfg.betaEnd - cfg.betaStart)) / (T - 1);
    prod *= 1 - beta;
    out[t] = prod;
  }
  return out;
}

/** ᾱ at timestep t, with the convention ᾱ_{−1} = 1 used by the final generation step (docs/method.md §1.2). */
export function alphaBarAt(alphasBar: Float64Array, t: number): number {
  if (t === -1) return 1;
  const v = alphasBar[t];
  if (v === undefined) throw new EngineError('INFERENCE_FAILED', `timestep ${t} is outside the schedule (0..${alphasBar.length - 1})`);
  return v;
}

/**
 * trunc(linspace(0, 1, n) · tMax + 1e-6): for n = 40 and tMax = 999 this is 0, 25, 51, …, 973, 999.
 * Inversion walks it upwards, generation downwards (docs/method.md §1.6).
 */
export function timestepSequence(n: number, tMax = 999): number[] {
  if (!Number.isInteger(n) || n < 2) throw new EngineError('RECIPE_BAD_VALUE', `the step count must be a whole number ≥ 2; got ${n}`);
  const step = 1 / (n - 1);
  const seq: number[] = [];
  for (let i = 0; i < n; i++) {
    const frac = i === n - 1 ? 1 : i * step;
    seq.push(Math.trunc(frac * tMax + 1e-6));
  }
  return seq;
}
