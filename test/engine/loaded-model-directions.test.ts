/**
 * LoadedModel.directionNames keeps the folder's listing between calls (every submit asks for it) and
 * still sees a direction added, replaced or removed by another process, through the folder's mtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { testModels } from '../helpers/paths.js';

let dir: string;
let model: LoadedModel;
let directions: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asyrp-loaded-model-'));
  cpSync(join(testModels, 'analytic'), join(dir, 'analytic'), { recursive: true });
  model = await LoadedModel.open(readModelPackage(join(dir, 'analytic')), { provider: 'cpu' });
  directions = model.directionsDir;
});
afterAll(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Moves the folder's mtime on by a second, as a later change would (the test is faster than the clock's tick). */
function touchLater(): void {
  const m = statSync(directions).mtime;
  utimesSync(directions, m, new Date(m.getTime() + 1000));
}

describe('LoadedModel.directionNames', () => {
  it('lists the installed directions, sorted, and sees one added, renamed into place and removed', () => {
    const files = readdirSync(directions).filter((f) => f.endsWith('.safetensors'));
    const first = model.directionNames();
    expect(first).toEqual(files.map((f) => f.slice(0, -'.safetensors'.length)).sort());
    expect(first.length).toBeGreaterThan(0);

    // A caller that changes the array it got does not change the next answer.
    first.push('not-a-direction');
    expect(model.directionNames()).not.toContain('not-a-direction');

    copyFileSync(join(directions, files[0]!), join(directions, 'zz-added.tmp'));
    renameSync(join(directions, 'zz-added.tmp'), join(directions, 'zz-added.safetensors'));
    touchLater();
    expect(model.directionNames()).toContain('zz-added');

    rmSync(join(directions, 'zz-added.safetensors'));
    touchLater();
    expect(model.directionNames()).not.toContain('zz-added');
  });

  it('reads the folder again after reloadDirections, whatever its mtime', () => {
    const before = statSync(directions).mtime;
    copyFileSync(join(directions, readdirSync(directions).find((f) => f.endsWith('.safetensors'))!), join(directions, 'zz-quiet.safetensors'));
    // The same mtime as before the copy: only the explicit reload can tell.
    utimesSync(directions, before, before);
    expect(model.directionNames()).not.toContain('zz-quiet');
    model.reloadDirections();
    expect(model.directionNames()).toContain('zz-quiet');
  });
});
