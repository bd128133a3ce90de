/**
 * The generation trajectories of a job once its x_T is known (from the inversion or the cache): one per
 * requested strength, each with its own copy of the plan's seeded noise, so a sweep's samples differ only
 * by strength.
 */
import { GenerationTrajectory } from '../diffusion/trajectory.js';
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { timestepSequence } from '../diffusion/schedule.js';
import type { LoadedModel } from '../loaded-model.js';
import type { EditPlan } from '../pipeline/edit-plan.js';

export function generationTrajectories(xT: Float32Array, plan: EditPlan, strengths: readonly number[], model: LoadedModel): GenerationTrajectory[] {
  const seq = timestepSequence(plan.generationSteps, model.manifest.schedule.trainSteps - 1);
  return strengths.map((s) => {
    // Δh_t × s (docs/method.md §1.4: the shift is linear in its strength, negative values included),
    // except where a direction names its negative side (EditPlan.scaled), which then runs at |s|.
    const scaled = plan.scaled(s);
    const rng = new GaussianRng(plan.seed);
    return new GenerationTrajectory(xT, seq, model.alphasBar, {
      tEdit: scaled.tEdit,
      tBoost: scaled.tBoost,
      deltaHAt: scaled.deltaHPartsAt,
      noise: (out) => rng.fillNormal(out),
      // P_t for previews costs one pass over the sample per step: negligible next to the UNet.
      trackX0: true,
    });
  });
}
