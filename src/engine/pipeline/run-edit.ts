/**
 * One edit of one or several image tensors: (1) DDIM inversion to x_T, (2) the asymmetric reverse process
 * with editing, denoising and quality boosting. Both go through the one sampler driver
 * (diffusion/batch-runner.ts); the engine service advances the same trajectories with it tick by tick.
 */
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { runToCompletion, type UNet } from '../diffusion/batch-runner.js';
import { timestepSequence } from '../diffusion/schedule.js';
import { GenerationTrajectory, InversionTrajectory, type Phase } from '../diffusion/trajectory.js';
import type { EditPlan } from './edit-plan.js';

export interface EditProgress {
  readonly phase: Phase;
  /** Model evaluations done and in all, over inversion and generation together. */
  readonly done: number;
  readonly total: number;
}

export interface EditTimings {
  inversionMs: number;
  generationMs: number;
  /** Time by generation phase. */
  phases: Record<'editing' | 'denoising' | 'boosting', number>;
}

export interface RunEditOptions {
  /** x_T from an earlier inversion of the same image (skips step 1). */
  readonly xT?: Float32Array;
  readonly onProgress?: (p: EditProgress) => void;
  readonly signal?: AbortSignal;
}

export interface RunEditResult {
  readonly x0: Float32Array;
  readonly xT: Float32Array;
  readonly timings: EditTimings;
}

export function inversionTrajectory(x0: Float32Array, plan: EditPlan, alphasBar: Float64Array, tMax: number): InversionTrajectory {
  return new InversionTrajectory(x0, timestepSequence(plan.inversionSteps, tMax), alphasBar, undefined, plan.inversionRefinement);
}

export function generationTrajectory(xT: Float32Array, plan: EditPlan, alphasBar: Float64Array, tMax: number): GenerationTrajectory {
  const rng = new GaussianRng(plan.seed);
  return new GenerationTrajectory(xT, timestepSequence(plan.generationSteps, tMax), alphasBar, {
    tEdit: plan.tEdit,
    tBoost: plan.tBoost,
    deltaHAt: plan.deltaHPartsAt,
    noise: (out) => rng.fillNormal(out),
  });
}

export async function runEdit(unet: UNet, alphasBar: Float64Array, x0: Float32Array, plan: EditPlan, opts: RunEditOptions = {}): Promise<RunEditResult> {
  const { xTs, x0s, timings } = await runEditBatch(unet, alphasBar, [x0], plan, { ...opts, xTs: opts.xT ? [opts.xT] : undefined });
  return { x0: x0s[0]!, xT: xTs[0]!, timings };
}

/**
 * The same edit applied to several independent images (the faces of one photo) in one batch: every
 * UNet call carries all of them, so n faces cost about one face's calls with a larger batch.
 */
export async function runEditBatch(
  unet: UNet,
  alphasBar: Float64Array,
  x0s: readonly Float32Array[],
  plan: EditPlan,
  opts: Omit<RunEditOptions, 'xT'> & { readonly xTs?: readonly Float32Array[] } = {},
): Promise<{ x0s: Float32Array[]; xTs: Float32Array[]; timings: EditTimings }> {
  const tMax = alphasBar.length - 1;
  const timings: EditTimings = { inversionMs: 0, generationMs: 0, phases: { editing: 0, denoising: 0, boosting: 0 } };
  // Progress counts batched steps: a refined inversion step is 1 + refinement UNet calls.
  const invSteps = opts.xTs ? 0 : (plan.inversionSteps - 1) * (1 + plan.inversionRefinement);
  const total = invSteps + plan.generationSteps;
  let done = 0;
  const report = (phase: Phase) => opts.onProgress?.({ phase, done, total });

  // 1. Inversion: x0 → x_T (deterministic, η = 0, no Δh), unless x_T is known.
  let xTs = opts.xTs?.map((x) => Float32Array.from(x));
  if (!xTs) {
    const start = performance.now();
    const invs = x0s.map((x0) => inversionTrajectory(x0, plan, alphasBar, tMax));
    report('inversion');
    await runToCompletion(unet, invs, { signal: opts.signal, onStep: ({ phase }) => (done++, report(phase)) });
    xTs = invs.map((inv) => Float32Array.from(inv.x));
    timings.inversionMs = performance.now() - start;
  }

  // 2. Generation: x_T → x0 with the asymmetric reverse process, timed by phase. Each image gets its own
  // generator, seeded alike: the same recipe gives the same result per face whether edited alone or with others.
  const start = performance.now();
  const gens = xTs.map((xT) => generationTrajectory(Float32Array.from(xT), plan, alphasBar, tMax));
  report(gens[0]!.phase);
  await runToCompletion(unet, gens, {
    signal: opts.signal,
    onStep: ({ phase, ms }) => {
      timings.phases[phase as keyof EditTimings['phases']] += ms;
      done++;
      report(gens[0]!.phase);
    },
  });
  timings.generationMs = performance.now() - start;
  return { x0s: gens.map((g) => g.x), xTs, timings };
}
