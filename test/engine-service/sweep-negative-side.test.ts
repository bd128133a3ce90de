/**
 * A sweep's strengths go through the same rule as a recipe's (EditPlan.scaled): where a direction names
 * its negative side, a negative strength runs that direction at |s|, not −Δh; elsewhere Δh × s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDirection, encodeDirection } from '../../src/engine/directions/direction-file.js';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { planEdit } from '../../src/engine/pipeline/edit-plan.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { generationTrajectories } from '../../src/engine/service/job-trajectories.js';
import { tempDir, testModels } from '../helpers/paths.js';

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  dir = tempDir('asyrp-sweep-negative-');
  cpSync(join(testModels, 'analytic'), join(dir, 'analytic'), { recursive: true });
  const file = join(dir, 'analytic', 'directions', 'shift.safetensors');
  const pkg = readModelPackage(join(dir, 'analytic'));
  const shift = decodeDirection(readFileSync(file), file, pkg.manifest.hspace);
  writeFileSync(file, encodeDirection({ ...shift, meta: { ...shift.meta, negative: 'global' } }));
  model = await LoadedModel.open(pkg, { provider: 'cpu' });
});
afterAll(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a sweep over a direction with a negative side', () => {
  it('runs the negative side at |s| for s < 0 and Δh × s for s ≥ 0', () => {
    const plan = (text: string) => planEdit(model.manifest, parseRecipe(text, { directions: model.directionNames() }), (n) => model.direction(n));
    const xT = new Float32Array(model.manifest.resolution ** 2 * 3).fill(0.1);
    const first = (p: ReturnType<typeof plan>, s: number) => generationTrajectories(xT, p, [s], model)[0]!.request().deltaH as Float32Array;
    const [neg, half] = generationTrajectories(xT, plan('shift'), [-2, 0.5], model).map((g) => g.request().deltaH as Float32Array);
    expect(Array.from(neg!)).toEqual(Array.from(first(plan('global:2'), 1)));
    expect(Array.from(half!)).toEqual(Array.from(first(plan('shift:0.5'), 1)));
    // The two sides differ, so the first comparison could not pass with −Δh_shift.
    expect(Array.from(neg!)).not.toEqual(Array.from(first(plan('shift:2'), 1)).map((v) => -v));
  });
});
