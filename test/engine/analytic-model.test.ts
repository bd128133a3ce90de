/**
 * End to end on the analytic model (exact ε of a per-pixel Gaussian, tools/make_analytic_model.py):
 * recipe → plan → inversion and generation through onnxruntime, against an independent float64
 * computation (tools/make_engine_fixtures.py).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { planEdit } from '../../src/engine/pipeline/edit-plan.js';
import { generationTrajectory, inversionTrajectory, runEdit, runEditBatch } from '../../src/engine/pipeline/run-edit.js';
import { runToCompletion, stepTogether } from '../../src/engine/diffusion/batch-runner.js';
import { GenerationTrajectory } from '../../src/engine/diffusion/trajectory.js';
import { timestepSequence } from '../../src/engine/diffusion/schedule.js';
import { engineFixtures, maxAbsDiff, readJson, testModels } from '../helpers/paths.js';

interface Tensor {
  shape: number[];
  data: number[];
}
interface CaseFixture {
  case: string;
  n: number;
  tEdit: number;
  tBoost: number;
  direction: string | null;
  recipe: string;
  x0: Tensor;
  xT: Tensor;
  steps: { t: number; phase: string; deltaH: number[] | null }[];
  noise: (Tensor & { timesteps: number[] }) | null;
  output: Tensor;
}

const cases = readdirSync(engineFixtures)
  .filter((f) => /^analytic-n\d+-.*\.json$/.test(f))
  .map((f) => readJson<CaseFixture>(join(engineFixtures, f)));

let model: LoadedModel;
beforeAll(async () => {
  model = await LoadedModel.open(readModelPackage(join(testModels, 'analytic')), { provider: 'cpu' });
});
afterAll(async () => model?.close());

function planFor(c: CaseFixture) {
  const recipe = parseRecipe(c.recipe, { directions: model.directionNames() });
  return planEdit(model.manifest, recipe, (n) => model.direction(n));
}

describe('analytic model, against float64', () => {
  it('has fixtures for reconstruction, directions, strengths and boosting', () => {
    expect(cases.map((c) => c.case).sort()).toEqual(expect.arrayContaining(['recon', 'shift', 'shift-0.7', 'global', 'shift-boost', 'shift-edges']));
  });

  it.each(cases.map((c) => [`n=${c.n} ${c.case}`, c] as const))('%s: inversion, Δh per step and output within 1e-4', async (_n, c) => {
    const plan = planFor(c);
    expect(plan.tEdit).toBe(c.tEdit);
    expect(plan.tBoost).toBe(c.tBoost);
    // Δh at every generation step, including the interpolation between stored timesteps.
    for (const s of c.steps) {
      const dh = s.t >= plan.tEdit ? plan.deltaHAt(s.t) : null;
      if (s.deltaH === null || s.phase !== 'edit') expect(s.phase === 'edit' ? dh : null).toBeNull();
      else expect(maxAbsDiff(dh!, s.deltaH)).toBeLessThan(1e-6);
    }
    const x0 = Float32Array.from(c.x0.data);
    const inv = inversionTrajectory(x0, plan, model.alphasBar, 999);
    await runToCompletion(model.unet, [inv]);
    expect(maxAbsDiff(inv.x, c.xT.data)).toBeLessThan(1e-4);

    let gen: GenerationTrajectory;
    if (c.noise) {
      // Boosting noise comes from the fixture so that the float64 reference can reproduce it.
      const per = c.noise.data.length / c.noise.shape[0]!;
      let k = 0;
      gen = new GenerationTrajectory(Float32Array.from(inv.x), timestepSequence(plan.generationSteps), model.alphasBar, {
        tEdit: plan.tEdit,
        tBoost: plan.tBoost,
        deltaHAt: plan.deltaHAt,
        noise: (out) => {
          out.set(c.noise!.data.slice(k * per, (k + 1) * per));
          k++;
          return out;
        },
      });
    } else {
      gen = generationTrajectory(Float32Array.from(inv.x), plan, model.alphasBar, 999);
    }
    const phases: string[] = [];
    while (!gen.done) {
      phases.push(gen.phase);
      await stepTogether(model.unet, [gen]);
    }
    const expectedPhases = c.steps.map((s) => (s.phase === 'edit' ? (c.direction ? 'editing' : 'denoising') : s.phase === 'boost' ? 'boosting' : 'denoising'));
    expect(phases).toEqual(expectedPhases);
    expect(maxAbsDiff(gen.x, c.output.data)).toBeLessThan(1e-4);
  });

  it('runEdit gives the same result as the step-by-step run, and reuses a given x_T', async () => {
    const c = cases.find((x) => x.case === 'shift' && x.n === 10)!;
    const plan = planFor(c);
    const progress: string[] = [];
    const full = await runEdit(model.unet, model.alphasBar, Float32Array.from(c.x0.data), plan, { onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`) });
    expect(maxAbsDiff(full.x0, c.output.data)).toBeLessThan(1e-4);
    expect(progress[0]).toBe('inversion:0/19');
    expect(progress.at(-1)).toMatch(/:19\/19$/);
    const again = await runEdit(model.unet, model.alphasBar, new Float32Array(full.x0.length), plan, { xT: full.xT });
    expect(maxAbsDiff(again.x0, full.x0)).toBe(0);
    expect(again.timings.inversionMs).toBe(0);
  });

  it('runEditBatch edits each image as runEdit does alone, with refined inversion counted in the progress', async () => {
    const c = cases.find((x) => x.case === 'shift-boost' && x.n === 10)!;
    const plan = { ...planFor(c), inversionRefinement: 1 };
    const a = Float32Array.from(c.x0.data);
    const b = a.map((v) => -v);
    const progress: string[] = [];
    const batch = await runEditBatch(model.unet, model.alphasBar, [a, b], plan, { onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`) });
    // 9 inversion steps of 2 UNet calls each (one refinement), then 10 generation steps.
    expect(progress[0]).toBe('inversion:0/28');
    expect(progress.at(-1)).toBe('boosting:28/28');
    for (const [i, x0] of [a, b].entries()) {
      const alone = await runEdit(model.unet, model.alphasBar, x0, plan);
      expect(maxAbsDiff(batch.x0s[i]!, alone.x0)).toBeLessThan(1e-5);
      expect(maxAbsDiff(batch.xTs[i]!, alone.xT)).toBeLessThan(1e-5);
    }
  });

  it('is bit-identical for the same seed with boosting on, and differs for another seed', async () => {
    const c = cases.find((x) => x.case === 'shift-boost' && x.n === 10)!;
    const run = (seed: number) => runEdit(model.unet, model.alphasBar, Float32Array.from(c.x0.data), planEdit(model.manifest, parseRecipe(`${c.recipe} seed:${seed}`, { directions: model.directionNames() }), (n) => model.direction(n)));
    const [a, b, d] = [await run(5), await run(5), await run(6)];
    expect(Buffer.from(a.x0.buffer).equals(Buffer.from(b.x0.buffer))).toBe(true);
    expect(maxAbsDiff(a.x0, d.x0)).toBeGreaterThan(1e-3);
  });
});
