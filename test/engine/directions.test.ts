import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDirection, directionAt, encodeDirection, loadDirection, type Direction } from '../../src/engine/directions/direction-file.js';
import { parseSafetensors, serializeSafetensors } from '../../src/engine/directions/safetensors.js';
import { planEdit } from '../../src/engine/pipeline/edit-plan.js';
import { parseRecipe } from '../../src/engine/recipe/parse-recipe.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import type { EngineError } from '../../src/engine/errors.js';
import { codeOf } from '../helpers/engine-error.js';
import { tempDir, testModels } from '../helpers/paths.js';

const hs = [1, 1, 2] as const;

function direction(timesteps: number[], rows: number[][], meta: Record<string, string | number> = {}): Direction {
  const bytes = encodeDirection({ meta: { name: 'd', description: 'test', ...meta }, timesteps: Int32Array.from(timesteps), deltaH: Float32Array.from(rows.flat()), hspace: hs });
  return decodeDirection(bytes, 'd.safetensors', hs);
}

describe('direction files', () => {
  it('interpolate linearly between stored timesteps and clamp at the ends', () => {
    const d = direction([100, 300], [[0, 10], [2, 30]]);
    expect(Array.from(directionAt(d, 200))).toEqual([1, 20]);
    expect(Array.from(directionAt(d, 150))).toEqual([0.5, 15]);
    expect(Array.from(directionAt(d, 0))).toEqual([0, 10]);
    expect(Array.from(directionAt(d, 999))).toEqual([2, 30]);
    const global = direction([0], [[4, 5]]);
    expect(Array.from(directionAt(global, 700))).toEqual([4, 5]);
  });

  it('round-trip metadata as strings and read it back as numbers', () => {
    const d = direction([0], [[1, 2]], { tEdit: 600, tBoost: 150, defaultStrength: 1.5, source: 'unit test' });
    expect(d.meta).toMatchObject({ name: 'd', tEdit: 600, tBoost: 150, defaultStrength: 1.5, source: 'unit test' });
    expect(d.meta.raw.tEdit).toBe('600');
  });

  it('read the same from a pooled Buffer as from a plain array', () => {
    const bytes = encodeDirection({ meta: { name: 'd', description: '' }, timesteps: Int32Array.from([5]), deltaH: Float32Array.from([1.5, -2]), hspace: hs });
    const pooled = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes)]).subarray(3);
    expect(Array.from(decodeDirection(pooled, 'p', hs).deltaH)).toEqual([1.5, -2]);
  });

  it.each([
    ['a truncated file', (b: Uint8Array) => b.subarray(0, b.length - 3), 'DIRECTION_INVALID'],
    ['a header length past the end', (b: Uint8Array) => { const c = Uint8Array.from(b); new DataView(c.buffer).setBigUint64(0, 1n << 40n, true); return c; }, 'DIRECTION_INVALID'],
    ['garbage', () => new TextEncoder().encode('not a safetensors file at all'), 'DIRECTION_INVALID'],
    ['too few bytes', () => new Uint8Array(3), 'DIRECTION_INVALID'],
  ])('refuse %s', (_n, mutate, code) => {
    const bytes = encodeDirection({ meta: { name: 'd', description: '' }, timesteps: Int32Array.from([0, 10]), deltaH: new Float32Array(4), hspace: hs });
    expect(codeOf(() => decodeDirection(mutate(bytes), 'x', hs))).toBe(code);
  });

  it('refuse a direction for another h-space, unordered timesteps and NaN', () => {
    const bytes = encodeDirection({ meta: { name: 'd', description: '' }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(2), hspace: hs });
    expect(codeOf(() => decodeDirection(bytes, 'x', [2, 1, 1]))).toBe('MODEL_MISMATCH');
    expect(codeOf(() => decodeDirection(bytes, 'x', [1, 2, 2]))).toBe('MODEL_MISMATCH');
    const unordered = serializeSafetensors({ delta_h: { dtype: 'F32', shape: [2, 1, 1, 2], data: new Float32Array(4) }, timesteps: { dtype: 'I32', shape: [2], data: Int32Array.from([5, 5]) } });
    expect(codeOf(() => decodeDirection(unordered, 'x', hs))).toBe('DIRECTION_INVALID');
    const nan = serializeSafetensors({ delta_h: { dtype: 'F32', shape: [1, 1, 1, 2], data: Float32Array.from([NaN, 0]) }, timesteps: { dtype: 'I32', shape: [1], data: Int32Array.from([0]) } });
    expect(codeOf(() => decodeDirection(nan, 'x', hs))).toBe('DIRECTION_INVALID');
  });

  it('name a missing direction and list the installed ones', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'directions'));
    writeFileSync(join(dir, 'directions', 'smile.safetensors'), encodeDirection({ meta: { name: 'smile', description: '' }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(2), hspace: hs }));
    try {
      loadDirection(join(dir, 'directions'), 'frown', hs);
      expect.unreachable();
    } catch (e) {
      expect((e as EngineError).code).toBe('DIRECTION_NOT_FOUND');
      expect((e as EngineError).message).toContain('installed: smile');
    }
    expect(codeOf(() => loadDirection(join(dir, 'directions'), '../../etc/passwd', hs))).toBe('DIRECTION_NOT_FOUND');
  });

  it('parse the analytic model’s committed files', () => {
    const file = parseSafetensors(readFileSync(join(testModels, 'analytic', 'directions', 'shift.safetensors')));
    expect(file.tensors.get('delta_h')?.shape).toEqual([5, 3, 4, 4]);
  });
});

describe('edit plans', () => {
  const manifest = readModelPackage(join(testModels, 'tiny-unet')).manifest;
  const size = manifest.hspace[0] * manifest.hspace[1] * manifest.hspace[2];
  const dirs: Record<string, Direction> = {};
  const make = (name: string, value: number, meta: Record<string, string | number>) => {
    const bytes = encodeDirection({ meta: { name, description: '', ...meta }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(size).fill(value), hspace: manifest.hspace });
    dirs[name] = decodeDirection(bytes, name, manifest.hspace);
  };
  make('a', 1, { tEdit: 600, tBoost: 100, defaultStrength: 2 });
  make('b', 10, { tEdit: 700, tBoost: 300 });
  make('c', 100, {});
  const plan = (text: string) => planEdit(manifest, parseRecipe(text, { directions: Object.keys(dirs) }), (n) => dirs[n]!);

  it('sums s_i · d_i · Δh_i', () => {
    expect(plan('a:0.5 b:-1').deltaHAt(800)![0]).toBeCloseTo(0.5 * 2 * 1 - 10, 5);
    expect(plan('c').deltaHAt(800)![0]).toBe(100);
    expect(plan('a:0').deltaHAt(800)).toBeNull();
    expect(plan('').deltaHAt(800)).toBeNull();
  });

  it('mixes directions each within its own interval (t ≥ its tEdit) unless the recipe sets t_edit', () => {
    // a: 2 (defaultStrength) from t 600, b: 10 from t 700.
    expect(plan('a b').deltaHAt(800)![0]).toBeCloseTo(12, 5);
    expect(plan('a b').deltaHAt(650)![0]).toBeCloseTo(2, 5);
    expect(plan('a b t_edit:500').deltaHAt(650)![0]).toBeCloseTo(12, 5);
    expect(plan('a c').deltaHAt(650)![0]).toBeCloseTo(102, 5); // c has no tEdit: it follows the plan's
  });

  it('rescales a direction calibrated for S steps by S / steps (the official step-ratio scaling)', () => {
    make('cal', 1, { raw: { trainSteps: '40' } } as never);
    const at = (text: string) => plan(text).deltaHAt(900)![0];
    expect(at('cal steps:40')).toBeCloseTo(1, 6);
    expect(at('cal steps:80')).toBeCloseTo(0.5, 6);
    expect(at('c steps:80')).toBe(100);
  });

  it('takes t_edit / t_boost from the recipe, else the direction with the lowest tEdit, else model.json', () => {
    expect([plan('a b').tEdit, plan('a b').tBoost]).toEqual([600, 100]);
    expect([plan('a').tEdit, plan('a').tBoost]).toEqual([600, 100]);
    expect([plan('c').tEdit, plan('c').tBoost]).toEqual([manifest.defaults.tEdit, manifest.defaults.tBoost]);
    expect([plan('a t_edit:400 t_boost:0').tEdit, plan('a t_edit:400 t_boost:0').tBoost]).toEqual([400, 0]);
    expect(plan('a steps:12').generationSteps).toBe(12);
    expect(plan('a').inversionSteps).toBe(manifest.defaults.inversionSteps);
  });

  it('runs the direction a file names as its negative side at |s| when s < 0, and Δh × s without one', () => {
    make('up', 3, { tEdit: 600, tBoost: 100, defaultStrength: 2, negative: 'down' });
    make('down', 7, { tEdit: 500, tBoost: 50, defaultStrength: 0.5 });
    expect(dirs.up!.meta.negative).toBe('down');
    expect(plan('up:0.5').deltaHAt(800)![0]).toBeCloseTo(0.5 * 2 * 3, 5);
    // up:-0.5 is down at 0.5 (its own defaultStrength, tEdit and tBoost), not −Δh_up.
    const neg = plan('up:-0.5');
    expect(neg.deltaHAt(800)![0]).toBeCloseTo(0.5 * 0.5 * 7, 5);
    expect([neg.tEdit, neg.tBoost]).toEqual([500, 50]);
    expect(neg.terms[0]).toMatchObject({ strength: 0.5, negativeOf: 'up' });
    expect(neg.terms[0]!.direction.meta.name).toBe('down');
    // Mixed with a direction that has no negative side: each term by its own sign.
    expect(plan('up:-1 c:-1').deltaHAt(800)![0]).toBeCloseTo(0.5 * 7 - 100, 5);
    // A sweep's strengths go through the same rule (EditPlan.scaled).
    const base = plan('up c:0.5');
    expect(base.scaled(1)).toBe(base);
    expect(base.scaled(-2).deltaHAt(800)![0]).toBeCloseTo(2 * 0.5 * 7 - 100, 5);
    expect(base.scaled(0.5).deltaHAt(800)![0]).toBeCloseTo(0.5 * (2 * 3 + 50), 5);
    expect(base.scaled(0).deltaHAt(800)).toBeNull();
    expect(plan('c').scaled(-1).deltaHAt(800)![0]).toBe(-100);
  });

  it('names the missing negative side, and refuses a file whose negative side is itself or not a name', () => {
    make('lonely', 1, { negative: 'nowhere' });
    // What is not in memory is looked up in an empty folder: the engine's own not-installed error.
    const empty = tempDir('asyrp-neg-');
    const get = (n: string) => dirs[n] ?? loadDirection(empty, n, manifest.hspace);
    const missing = codeOf(() => planEdit(manifest, parseRecipe('lonely:-1', { directions: ['lonely'] }), get));
    expect(missing).toBe('DIRECTION_NOT_FOUND');
    expect(() => planEdit(manifest, parseRecipe('lonely:-1', { directions: ['lonely'] }), get)).toThrow('"lonely" at a negative strength is the direction "nowhere", which is not installed');
    expect(planEdit(manifest, parseRecipe('lonely', { directions: ['lonely'] }), get).deltaHAt(800)![0]).toBe(1);
    const enc = (negative: string) => encodeDirection({ meta: { name: 'self', description: '', negative }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(size), hspace: manifest.hspace });
    expect(codeOf(() => decodeDirection(enc('self'), 'self', manifest.hspace))).toBe('DIRECTION_INVALID');
    expect(codeOf(() => decodeDirection(enc('Not A Name'), 'self', manifest.hspace))).toBe('DIRECTION_INVALID');
  });
});
