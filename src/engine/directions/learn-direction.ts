/**
 * Learning a direction from examples with inference only. Asyrp finds Δh_t homogeneous across images and
 * nearly constant across timesteps, and the mean of per-image Δh_t works almost as well as the per-image
 * network f_t (docs/method.md §2.3). So: invert examples with and without an attribute, record h at every
 * generation timestep on the same x_t that generation will see (the inversion visits exactly the
 * generation timesteps), and take Δh_t = mean h_t(with) − mean h_t(without). With --pairs the examples
 * are matched (the same face with and without) and the mean is over per-pair differences.
 *
 * Whether the offset *causes* the attribute when added during generation is not guaranteed (the mean
 * difference can also carry correlated changes); `asyrp eval` measures that.
 */
import { EngineError } from '../errors.js';
import { runToCompletion } from '../diffusion/batch-runner.js';
import { alphaBarAt, timestepSequence } from '../diffusion/schedule.js';
import { InversionTrajectory } from '../diffusion/trajectory.js';
import type { LoadedModel } from '../loaded-model.js';
import { prepareInput } from '../pipeline/edit-image.js';
import type { ImageLimits } from '../image/image-io.js';

export interface Example {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface LearnOptions {
  readonly steps: number;
  readonly pairs: boolean;
  readonly limits: ImageLimits;
  /** Images inverted together in one batch. */
  readonly batch?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TimestepReport {
  readonly t: number;
  /** ‖Δh_t‖ / √(C·H·W): the offset's RMS size per h element. */
  readonly rms: number;
  /** Pooled within-class spread of h_t along Δh_t; rms / spread is a signal-to-noise ratio. */
  readonly snr: number;
  /** Share of examples on the right side of the midpoint when projected on Δh_t. */
  readonly separation: number;
  /** Cosine between Δh_t and the mean direction over all timesteps (the paper's consistency). */
  readonly consistency: number;
  /** Mean RMS(P_t − x0) / RMS(x0 − mean x0) over the examples: how much of the image P_t has lost. */
  readonly lost: number;
}

export interface LearnedDirection {
  readonly timesteps: Int32Array;
  readonly deltaH: Float32Array;
  readonly recommendedTEdit: number;
  readonly perTimestep: readonly TimestepReport[];
  readonly positives: number;
  readonly negatives: number;
}

/** P_t must have lost this share of the image for the step to count as "coarse" (docs/research/directions.md, "tEdit"). */
export const T_EDIT_LOST_THRESHOLD = 0.5;

interface HTrajectory {
  /** h at each generation timestep (ascending seq order). */
  readonly h: Float32Array[];
  /** RMS(P_t − x0)/RMS(x0 − mean) at each timestep. */
  readonly lost: number[];
}

/** Inverts a batch of images, recording h and how much P_t has lost at every timestep of `seq`. */
async function hTrajectories(model: LoadedModel, tensors: Float32Array[], seq: number[]): Promise<HTrajectory[]> {
  const out = tensors.map(() => ({ h: [] as Float32Array[], lost: [] as number[] }));
  const record = (i: number, t: number, h: Float32Array, eps: Float32Array, x: Float32Array) => {
    out[i]!.h.push(Float32Array.from(h));
    out[i]!.lost.push(lostShare(tensors[i]!, x, model.alphasBar, t, eps));
  };
  // The model's inversion refinement, so h is taken on the x_t that generation from x_T revisits.
  const refine = model.manifest.defaults.inversionRefinement;
  const trajectories = tensors.map((x0, i) => new InversionTrajectory(x0, seq, model.alphasBar, (t, h, eps, x) => record(i, t, h, eps, x), refine));
  const unet = model.unet;
  await runToCompletion(unet, trajectories);
  // The inversion evaluates t = seq[0] … seq[n−2]; generation starts at seq[n−1] on x_T: one more call.
  const tLast = seq[seq.length - 1]!;
  const B = tensors.length;
  const x = new Float32Array(B * unet.sampleSize);
  trajectories.forEach((tr, i) => x.set(tr.x, i * unet.sampleSize));
  const r = await unet.run(x, new Float32Array(B).fill(tLast), new Float32Array(0), B, 0);
  trajectories.forEach((tr, i) => {
    const slice = (a: Float32Array, n: number) => a.subarray(i * n, (i + 1) * n);
    record(i, tLast, slice(r.h, unet.hSize), slice(r.eps, unet.sampleSize), tr.x);
  });
  return out;
}

function lostShare(x0: Float32Array, xt: Float32Array, alphasBar: Float64Array, t: number, eps: Float32Array): number {
  const ab = alphaBarAt(alphasBar, t);
  let mean = 0;
  for (const v of x0) mean += v;
  mean /= x0.length;
  let err = 0;
  let spread = 0;
  for (let i = 0; i < x0.length; i++) {
    const p = (xt[i]! - Math.sqrt(1 - ab) * eps[i]!) / Math.sqrt(ab);
    err += (p - x0[i]!) ** 2;
    spread += (x0[i]! - mean) ** 2;
  }
  return Math.sqrt(err / Math.max(spread, 1e-12));
}

async function trajectoriesFor(model: LoadedModel, examples: readonly Example[], seq: number[], opts: LearnOptions, done: { n: number }, total: number): Promise<HTrajectory[]> {
  const out: HTrajectory[] = [];
  const batch = opts.batch ?? 8;
  for (let i = 0; i < examples.length; i += batch) {
    const chunk = examples.slice(i, i + batch);
    const tensors = [];
    for (const ex of chunk) {
      try {
        tensors.push((await prepareInput(ex.bytes, model.manifest, opts.limits)).tensor);
      } catch (e) {
        if (e instanceof EngineError) throw new EngineError(e.code, `${ex.name}: ${e.message}`, { ...e.details, file: ex.name });
        throw e;
      }
    }
    out.push(...(await hTrajectories(model, tensors, seq)));
    done.n += chunk.length;
    opts.onProgress?.(done.n, total);
  }
  return out;
}

export async function learnDirection(model: LoadedModel, positives: readonly Example[], negatives: readonly Example[], opts: LearnOptions): Promise<LearnedDirection> {
  if (positives.length === 0) throw new EngineError('RECIPE_BAD_VALUE', 'no positive examples (images that have the attribute) were given');
  if (negatives.length === 0) throw new EngineError('RECIPE_BAD_VALUE', 'no negative examples (images without the attribute) were given');
  if (opts.pairs && positives.length !== negatives.length) {
    throw new EngineError('RECIPE_BAD_VALUE', `--pairs needs as many positive as negative examples (matched in name order); got ${positives.length} and ${negatives.length}`);
  }
  const seq = timestepSequence(opts.steps, model.manifest.schedule.trainSteps - 1);
  const done = { n: 0 };
  const total = positives.length + negatives.length;
  const pos = await trajectoriesFor(model, positives, seq, opts, done, total);
  const neg = await trajectoriesFor(model, negatives, seq, opts, done, total);
  const size = model.unet.hSize;
  const K = seq.length;
  const deltaH = new Float32Array(K * size);
  const reports: TimestepReport[] = [];
  const mean = (set: HTrajectory[], k: number) => {
    const m = new Float64Array(size);
    for (const tr of set) for (let i = 0; i < size; i++) m[i]! += tr.h[k]![i]!;
    for (let i = 0; i < size; i++) m[i]! /= set.length;
    return m;
  };
  for (let k = 0; k < K; k++) {
    const mp = mean(pos, k);
    const mn = mean(neg, k);
    const d = new Float64Array(size);
    if (opts.pairs) {
      for (let j = 0; j < pos.length; j++) for (let i = 0; i < size; i++) d[i]! += (pos[j]!.h[k]![i]! - neg[j]!.h[k]![i]!) / pos.length;
    } else for (let i = 0; i < size; i++) d[i] = mp[i]! - mn[i]!;
    deltaH.set(Float32Array.from(d), k * size);
    reports.push(timestepReport(seq[k]!, d, mp, mn, pos, neg, k));
  }
  // Consistency: cosine of each Δh_t with the mean over timesteps (docs/method.md §2.3's Δh^global).
  const global = new Float64Array(size);
  for (let k = 0; k < K; k++) for (let i = 0; i < size; i++) global[i]! += deltaH[k * size + i]! / K;
  const perTimestep = reports.map((r, k) => ({ ...r, consistency: cosine(deltaH.subarray(k * size, (k + 1) * size), global) }));
  return {
    timesteps: Int32Array.from(seq),
    deltaH,
    recommendedTEdit: recommendTEdit(perTimestep, model.manifest.defaults.tEdit),
    perTimestep,
    positives: positives.length,
    negatives: negatives.length,
  };
}

function timestepReport(t: number, d: Float64Array, mp: Float64Array, mn: Float64Array, pos: HTrajectory[], neg: HTrajectory[], k: number): TimestepReport {
  const norm = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
  const unit = d.map((v) => v / (norm || 1));
  const mid = mp.map((v, i) => (v + mn[i]!) / 2);
  const project = (h: Float32Array) => h.reduce((s, v, i) => s + (v - mid[i]!) * unit[i]!, 0);
  const pp = pos.map((tr) => project(tr.h[k]!));
  const pn = neg.map((tr) => project(tr.h[k]!));
  const variance = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1);
  };
  const spread = Math.sqrt((variance(pp) + variance(pn)) / 2);
  const correct = pp.filter((v) => v > 0).length + pn.filter((v) => v < 0).length;
  const lost = [...pos, ...neg].map((tr) => tr.lost[k]!).filter(Number.isFinite);
  return {
    t,
    rms: norm / Math.sqrt(d.length),
    snr: spread > 0 ? norm / spread : Infinity,
    separation: correct / (pp.length + pn.length),
    consistency: 0,
    lost: lost.length ? lost.reduce((a, b) => a + b, 0) / lost.length : NaN,
  };
}

/**
 * The measured rule for t_edit (docs/research/directions.md, "tEdit"): the smallest timestep at which the predicted x0 of the
 * examples has lost at least half of the image (RMS(P_t − x0) ≥ 0.5·RMS(x0 − mean)). It plays the part of
 * the paper's LPIPS(x, P_t) ≥ 0.33 threshold without LPIPS weights: editing stops once P_t shows the
 * image's own detail, so later steps restore detail instead of fighting the edit.
 */
export function recommendTEdit(reports: readonly TimestepReport[], fallback: number): number {
  const ok = [...reports].sort((a, b) => a.t - b.t).find((r) => r.lost >= T_EDIT_LOST_THRESHOLD);
  return ok ? ok.t : fallback;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa && bb ? ab / Math.sqrt(aa * bb) : 0;
}
