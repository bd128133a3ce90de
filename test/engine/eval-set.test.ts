/**
 * Labelled face folders read in slices: `--skip` lets a choice made on faces 0-99 be checked on faces
 * 100-199, so a slice must be exactly those rows, in order. The default model's samples/ folder (its eval
 * set's first eight faces, labels.jsonl beside them) is such a folder.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { readAttributeSchema, readEvalSet } from '../../src/engine/eval/eval-set.js';
import { eligible, parseTarget } from '../../src/engine/eval/evaluate.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import type { EngineError } from '../../src/engine/errors.js';

const pkg = readModelPackage(join(repoRoot, 'models', 'toyfaces-32'));
const samples = join(pkg.dir, 'samples');
const rows = readFileSync(join(samples, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; seed: number });

describe('readEvalSet', () => {
  it('returns faces skip .. skip+n-1 of labels.jsonl, in file order', () => {
    const slice = readEvalSet(samples, 3, 4);
    expect(slice.map((f) => f.labels.seed)).toEqual(rows.slice(4, 7).map((r) => r.seed));
    expect(slice.map((f) => f.file)).toEqual(rows.slice(4, 7).map((r) => join(samples, r.file)));
    expect(readEvalSet(samples, 2).map((f) => f.labels.seed)).toEqual([rows[0]!.seed, rows[1]!.seed]);
  });

  it('names the range it cannot serve', () => {
    expect(() => readEvalSet(samples, 10, rows.length - 4)).toThrow(new RegExp(`holds ${rows.length} faces; faces ${rows.length - 4}-${rows.length + 5} were asked for`));
    expect(() => readEvalSet(samples, rows.length + 1)).toThrow(new RegExp(`holds ${rows.length} faces; ${rows.length + 1} were asked for`));
  });

  it('reads a folder with images in a subfolder, and says what is wrong with a bad one', () => {
    const dir = tempDir('asyrp-evalset-');
    mkdirSync(join(dir, 'img'));
    copyFileSync(join(samples, rows[6]!.file), join(dir, 'img', 'a.png'));
    copyFileSync(join(samples, rows[7]!.file), join(dir, 'img', 'b.png'));
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png', seed: 1 })}\n${JSON.stringify({ file: 'img/b.png', seed: 2 })}\n`);
    expect(readEvalSet(dir, 1, 1)).toEqual([{ file: join(dir, 'img', 'b.png'), labels: { file: 'img/b.png', seed: 2 } }]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as EngineError).code, (e as Error).message];
      }
      return ['no error', ''];
    };
    expect(code(() => readEvalSet(join(dir, 'img'), 1, 0))).toEqual(['IO_FAILED', `${join(dir, 'img', 'labels.jsonl')} is missing: an evaluation folder holds labels.jsonl and the images it names`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png' })}\n${JSON.stringify({ file: 'img/gone.png' })}\n{oops\n`);
    expect(code(() => readEvalSet(dir, 2, 0))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')}: line 3 is not JSON`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png' })}\n${JSON.stringify({ file: 'img/gone.png' })}\n`);
    expect(readEvalSet(dir, 1, 0)).toHaveLength(1);
    expect(code(() => readEvalSet(dir, 2, 0))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')} names ${join(dir, 'img', 'gone.png')}, which is missing`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: '../img/a.png' })}\n`);
    expect(code(() => readEvalSet(dir, 1, 0))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')}: line 1 has no valid "file"`]);
  });
});

describe('readAttributeSchema', () => {
  const withSchema = (schema: unknown) => {
    const dir = tempDir('asyrp-schema-');
    writeFileSync(join(dir, 'attributes.json'), JSON.stringify(schema));
    return { ...pkg, dir };
  };
  const base = { scalars: ['smile'], binary: ['glasses'], classes: { hair_colour: ['black', 'red'] } };

  it('reads the shipped schema with its measured reach', () => {
    const schema = readAttributeSchema(pkg);
    expect(schema.scalars).toEqual(['smile']);
    const [low, high] = schema.reach!.smile!;
    expect(low).toBeLessThan(-0.8);
    expect(high).toBeGreaterThan(0.8);
    expect(high).toBeLessThan(1);
  });

  it('refuses a reach that is not [low, high] of a scalar, by name', () => {
    expect(readAttributeSchema(withSchema(base)).reach).toBeUndefined();
    expect(() => readAttributeSchema(withSchema({ ...base, reach: [0.9] }))).toThrow(/"reach" must map scalar names to \[low, high\]/);
    expect(() => readAttributeSchema(withSchema({ ...base, reach: { glasses: [0, 1] } }))).toThrow(/"reach" names "glasses", which is not one of its scalars \(smile\)/);
    expect(() => readAttributeSchema(withSchema({ ...base, reach: { smile: [0.9, -0.9] } }))).toThrow(/"reach" of "smile" must be \[low, high\] with −1 ≤ low < high ≤ 1, not \[0.9,-0.9\]/);
    expect(() => readAttributeSchema(withSchema({ ...base, reach: { smile: [-1.5, 0.9] } }))).toThrow(/"reach" of "smile" must be/);
    expect(() => readAttributeSchema(withSchema({ ...base, reach: { smile: ['a', 0.9] } }))).toThrow(/"reach" of "smile" must be/);
  });
});

describe('eligibility of a scalar target', () => {
  const up = parseTarget('smile:+', { scalars: ['smile'], binary: [], classes: {} }, 1);
  const down = parseTarget('smile:+', { scalars: ['smile'], binary: [], classes: {} }, -1);
  it('leaves room for the success delta below the reach (1 when none is given)', () => {
    const reach = { reach: { smile: [-0.9, 0.88] as const } };
    // 0.88 − 0.3 − 0.05 = 0.53: a face read at 0.6 cannot move by 0.3 when a full grin reads 0.88.
    expect(eligible(up, { smile: 0.5 }, reach)).toBe(true);
    expect(eligible(up, { smile: 0.6 }, reach)).toBe(false);
    expect(eligible(up, { smile: 0.6 })).toBe(true);
    expect(eligible(up, { smile: 0.66 })).toBe(false);
    // A frown (negative strength) measures from the low end: −0.9 + 0.35 = −0.55.
    expect(eligible(down, { smile: -0.5 }, reach)).toBe(true);
    expect(eligible(down, { smile: -0.6 }, reach)).toBe(false);
    expect(eligible(down, { smile: -0.6 })).toBe(true);
  });
});
