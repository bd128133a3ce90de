/**
 * The generation trajectories of a job once its x_T is known (from the inversion or the cache): one per
 * requested strength, each with Δh_t scaled by that strength and its own copy of the plan's seeded noise,
 * so a sweep's samples differ only by strength.
 */
import { GenerationTrajectory, type DeltaHParts } from '../diffusion/trajectory.js';
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { timestepSequence } from '../diffusion/schedule.js';
import type { LoadedModel } from '../loaded-model.js';
import type { EditPlan } from '../pipeline/edit-plan.js';

export function generationTrajectories(xT: Float32Array, plan: EditPlan, strengths: readonly number[], model: LoadedModel): GenerationTrajectory[] {
  const seq = timestepSequence(plan.generationSteps, model.manifest.schedule.trainSteps - 1);
  return strengths.map((s) => {
    const rng = new GaussianRng(plan.seed);
    return new GenerationTrajectory(xT, seq, model.alphasBar, {
      tEdit: plan.tEdit,
      tBoost: plan.tBoost,
      deltaHAt: scaleDelta(plan.deltaHPartsAt, s),
      noise: (out) => rng.fillNormal(out),
      // P_t for previews costs one pass over the sample per step: negligible next to the UNet.
      trackX0: true,
    });
  });
}

/**
 * Δh_t × s: strength scales the h-space shift linearly, negative values included (docs/method.md §1.4):
 * the summed part here, the h-net terms by their weights (they are evaluated where the UNet runs).
 */
export function scaleDelta(
  f: (t: number, hPrev: Float32Array | null) => DeltaHParts | null,
  s: number,
): (t: number, hPrev: Float32Array | null) => DeltaHParts | null {
  if (s === 1) return f;
  return (t, hPrev) => {
    const d = f(t, hPrev);
    if (!d) return null;
    const fixed = new Float32Array(d.fixed.length);
    for (let i = 0; i < fixed.length; i++) fixed[i] = s * d.fixed[i]!;
    return { fixed, hNets: d.hNets.map((term) => ({ net: term.net, weight: s * term.weight })) };
  };
}
