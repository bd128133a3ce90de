/** The UNet contract on a tiny random-weight UNet with a real encoder / middle block / decoder. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage, resolveModelPackage } from '../../src/engine/model/model-registry.js';
import { UNetSession } from '../../src/engine/onnx/unet-session.js';
import { stepTogether } from '../../src/engine/diffusion/batch-runner.js';
import { GenerationTrajectory, InversionTrajectory } from '../../src/engine/diffusion/trajectory.js';
import { timestepSequence } from '../../src/engine/diffusion/schedule.js';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { EngineError } from '../../src/engine/errors.js';
import { maxAbsDiff, tempDir, testModels } from '../helpers/paths.js';

const tinyDir = join(testModels, 'tiny-unet');
let model: LoadedModel;
let R: number;
let hSize: number;

beforeAll(async () => {
  model = await LoadedModel.open(readModelPackage(tinyDir), { provider: 'cpu' });
  R = model.manifest.resolution;
  hSize = model.unet.hSize;
});
afterAll(async () => model?.close());

function randn(n: number, seed: number): Float32Array {
  return new GaussianRng(seed).fillNormal(new Float32Array(n));
}

async function engineError(p: Promise<unknown> | (() => unknown)): Promise<EngineError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('tiny UNet', () => {
  it('E = 0 works and eps_edit with Δh = 0 equals eps', async () => {
    const B = 3;
    const x = randn(B * 3 * R * R, 1);
    const t = Float32Array.from([10, 500, 999]);
    const plain = await model.unet.run(x, t, new Float32Array(0), B, 0);
    expect(plain.epsEdit.length).toBe(0);
    expect(plain.eps.length).toBe(B * 3 * R * R);
    const zero = await model.unet.run(x, t, new Float32Array(B * hSize), B, B);
    expect(maxAbsDiff(zero.eps, plain.eps)).toBeLessThan(1e-5);
    expect(maxAbsDiff(zero.epsEdit, plain.eps)).toBeLessThan(1e-5);
    expect(maxAbsDiff(zero.h, plain.h)).toBeLessThan(1e-6);
  });

  it('a non-zero Δh changes eps_edit but not eps or h', async () => {
    const B = 2;
    const x = randn(B * 3 * R * R, 2);
    const t = Float32Array.from([700, 800]);
    const plain = await model.unet.run(x, t, new Float32Array(0), B, 0);
    const edited = await model.unet.run(x, t, randn(1 * hSize, 3), B, 1);
    expect(edited.epsEdit.length).toBe(3 * R * R);
    expect(maxAbsDiff(edited.eps, plain.eps)).toBeLessThan(1e-5);
    expect(maxAbsDiff(edited.h, plain.h)).toBeLessThan(1e-6);
    expect(maxAbsDiff(edited.epsEdit, plain.eps.subarray(0, 3 * R * R))).toBeGreaterThan(1e-3);
  });

  it('a batch of mixed trajectories gives each sample the result it gets alone (within 1e-5)', async () => {
    const seq = timestepSequence(6);
    const dh = randn(hSize, 9);
    const make = () => [
      new InversionTrajectory(randn(3 * R * R, 11), seq, model.alphasBar),
      new GenerationTrajectory(randn(3 * R * R, 12), seq, model.alphasBar, { tEdit: 400, tBoost: 200, deltaHAt: () => dh, noise: (o) => new GaussianRng(1).fillNormal(o) }),
      new GenerationTrajectory(randn(3 * R * R, 13), timestepSequence(4), model.alphasBar, { tEdit: 999, tBoost: 0, deltaHAt: () => null, noise: (o) => o }),
    ];
    const together = make();
    while (together.some((t) => !t.done)) await stepTogether(model.unet, together);
    const alone = make();
    for (const tr of alone) while (!tr.done) await stepTogether(model.unet, [tr]);
    together.forEach((tr, i) => expect(maxAbsDiff(tr.x, alone[i]!.x)).toBeLessThan(1e-5));
  });
});

describe('model loading errors', () => {
  it('names the input that differs from the contract', async () => {
    const pkg = readModelPackage(join(testModels, 'tiny-unet-bad-names'));
    const e = await engineError(LoadedModel.open(pkg, { provider: 'cpu' }));
    expect(e.code).toBe('MODEL_MISMATCH');
    expect(e.message).toMatch(/input "x" is missing/);
    expect(e.message).toMatch(/unexpected input "image"/);
  });

  it('names a fixed dimension that disagrees with model.json', async () => {
    const e = await engineError(UNetSession.load(join(tinyDir, 'unet.onnx'), R * 2, model.manifest.hspace, { provider: 'cpu' }));
    expect(e.code).toBe('MODEL_MISMATCH');
    expect(e.message).toMatch(new RegExp(`dimension 2 is ${R}; model.json needs ${R * 2}`));
  });

  it('refuses a corrupt graph and a missing one', async () => {
    const dir = tempDir();
    const bytes = readFileSync(join(tinyDir, 'unet.onnx'));
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const cut = await engineError(UNetSession.load(join(dir, 'cut.onnx'), R, model.manifest.hspace, { provider: 'cpu' }));
    expect(cut.code).toBe('MODEL_INVALID');
    expect(cut.message).toContain('cut.onnx is not a loadable ONNX graph');
    const missing = await engineError(UNetSession.load(join(dir, 'nope.onnx'), R, model.manifest.hspace, { provider: 'cpu' }));
    expect(missing.code).toBe('MODEL_NOT_FOUND');
  });

  it('reports a missing model with the installed ones', async () => {
    const e = await engineError(() => resolveModelPackage(testModels, 'no-such-model', null));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    expect(e.message).toMatch(/not installed; installed: .*analytic.*tiny-unet/);
  });

  it.each([
    ['format', { format: 'asyrp-model/2' }, /field "format" must be "asyrp-model\/1"/],
    ['resolution', { resolution: '64' }, /field "resolution" must be a whole number/],
    ['hspace', { hspace: [16, 8] }, /field "hspace" must be \[C, H, W\]/],
    ['defaults.tEdit', { defaults: { inversionSteps: 40, generationSteps: 40, tEdit: 1000, tBoost: 167 } }, /field "defaults.tEdit" must be a whole number from 0 to 999/],
    ['defaults.inversionRefinement', { defaults: { inversionSteps: 40, inversionRefinement: -1, generationSteps: 40, tEdit: 500, tBoost: 75 } }, /field "defaults.inversionRefinement" must be a whole number from 0 to 10/],
    ['unet', { unet: '../../etc/passwd' }, /field "unet" must be a path inside the model folder/],
    ['schedule', { schedule: undefined }, /field "schedule" must be an object; got nothing/],
    ['evalSet', { evalSet: 4242 }, /field "evalSet" must be an object; got 4242/],
    ['evalSet.faces', { evalSet: { renderSeed: 4242, faces: 0 } }, /field "evalSet.faces" must be a whole number from 1 to 100000; got 0/],
  ])('model.json with a bad %s is refused, naming the file and field', (_f, patch, pattern) => {
    const dir = tempDir();
    const manifest = { ...JSON.parse(readFileSync(join(tinyDir, 'model.json'), 'utf8')), ...patch };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    let err: unknown;
    try {
      readModelPackage(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('MODEL_INVALID');
    expect((err as EngineError).message).toContain(join(dir, 'model.json'));
    expect((err as EngineError).message).toMatch(pattern);
  });

  it('ignores unknown fields in model.json', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const manifest = { ...JSON.parse(readFileSync(join(tinyDir, 'model.json'), 'utf8')), futureField: { x: 1 } };
    writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(manifest));
    copyFileSync(join(tinyDir, 'unet.onnx'), join(dir, 'm', 'unet.onnx'));
    expect(readModelPackage(join(dir, 'm')).manifest.id).toBe('tiny-unet');
    // A package written before inversionRefinement existed inverts plainly.
    expect(readModelPackage(join(dir, 'm')).manifest.defaults.inversionRefinement).toBe(0);
  });
});
