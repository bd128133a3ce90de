/**
 * One edit of one image tensor, written out step by step: (1) DDIM inversion to x_T, (2) the asymmetric
 * reverse process with editing, denoising and quality boosting. Batched callers (the engine service)
 * drive the same trajectories themselves.
 */
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { runToCompletion, stepTogether, type UNet } from '../diffusion/batch-runner.js';
import { timestepSequence } from '../diffusion/schedule.js';
import { GenerationTrajectory, InversionTrajectory, type Phase, type Trajectory } from '../diffusion/trajectory.js';
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
    deltaHAt: plan.deltaHAt,
    noise: (out) => rng.fillNormal(out),
  });
}

export async function runEdit(unet: UNet, alphasBar: Float64Array, x0: Float32Array, plan: EditPlan, opts: RunEditOptions = {}): Promise<RunEditResult> {
  const tMax = alphasBar.length - 1;
  const timings: EditTimings = { inversionMs: 0, generationMs: 0, phases: { editing: 0, denoising: 0, boosting: 0 } };
  const invSteps = opts.xT ? 0 : (plan.inversionSteps - 1) * (1 + plan.inversionRefinement);
  const total = invSteps + plan.generationSteps;
  let done = 0;
  const report = (tr: Trajectory) => opts.onProgress?.({ phase: tr.phase, done, total });

  // 1. Inversion: x0 → x_T (deterministic, η = 0, no Δh).
  let xT = opts.xT;
  if (!xT) {
    const start = performance.now();
    const inv = inversionTrajectory(x0, plan, alphasBar, tMax);
    report(inv);
    await runToCompletion(unet, [inv], () => (done++, report(inv)), opts.signal);
    xT = Float32Array.from(inv.x);
    timings.inversionMs = performance.now() - start;
  }

  // 2. Generation: x_T → x0 with the asymmetric reverse process, timed by phase.
  const start = performance.now();
  const gen = generationTrajectory(xT, plan, alphasBar, tMax);
  report(gen);
  while (!gen.done) {
    opts.signal?.throwIfAborted();
    const phase = gen.phase as keyof EditTimings['phases'];
    const stepStart = performance.now();
    await stepTogether(unet, [gen]);
    timings.phases[phase] += performance.now() - stepStart;
    done++;
    report(gen);
  }
  timings.generationMs = performance.now() - start;
  return { x0: gen.x, xT, timings };
}

/**
 * The same edit applied to several independent images (the faces of one photo) in one batch: every
 * UNet call carries all of them, so n faces cost about one face's calls with a larger batch.
 */
export async function runEditBatch(unet: UNet, alphasBar: Float64Array, x0s: readonly Float32Array[], plan: EditPlan, opts: Omit<RunEditOptions, 'xT'> = {}): Promise<{ x0s: Float32Array[]; timings: EditTimings }> {
  const tMax = alphasBar.length - 1;
  const timings: EditTimings = { inversionMs: 0, generationMs: 0, phases: { editing: 0, denoising: 0, boosting: 0 } };
  const total = plan.inversionSteps - 1 + plan.generationSteps;
  let done = 0;
  const report = (tr: Trajectory) => opts.onProgress?.({ phase: tr.phase, done, total });

  let start = performance.now();
  const invs = x0s.map((x0) => inversionTrajectory(x0, plan, alphasBar, tMax));
  report(invs[0]!);
  await runToCompletion(unet, invs, () => (done++, report(invs[0]!)), opts.signal);
  timings.inversionMs = performance.now() - start;

  start = performance.now();
  // Each face gets its own generator, seeded alike: the same recipe gives the same result per face
  // whether it is edited alone or with others.
  const gens = invs.map((inv) => generationTrajectory(Float32Array.from(inv.x), plan, alphasBar, tMax));
  report(gens[0]!);
  while (!gens[0]!.done) {
    opts.signal?.throwIfAborted();
    const phase = gens[0]!.phase as keyof EditTimings['phases'];
    const stepStart = performance.now();
    await stepTogether(unet, gens);
    timings.phases[phase] += performance.now() - stepStart;
    done++;
    report(gens[0]!);
  }
  timings.generationMs = performance.now() - start;
  return { x0s: gens.map((g) => g.x), timings };
}
