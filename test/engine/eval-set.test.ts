/**
 * The held-out evaluation set of the shipped default model, read in slices: `--skip` lets a choice made on
 * faces 0-99 be checked on faces 100-199, so a slice must be exactly those rows, in order.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { readEvalSet } from '../../src/engine/eval/eval-set.js';
import { repoRoot } from '../helpers/paths.js';

const pkg = readModelPackage(join(repoRoot, 'models', 'toyfaces-32'));
const rows = readFileSync(join(pkg.dir, 'eval', 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; seed: number });

describe('readEvalSet', () => {
  it('returns faces skip .. skip+n-1 of labels.jsonl, in file order', () => {
    const slice = readEvalSet(pkg, 3, 100);
    expect(slice.map((f) => f.labels.seed)).toEqual(rows.slice(100, 103).map((r) => r.seed));
    expect(slice.map((f) => f.file)).toEqual(rows.slice(100, 103).map((r) => join(pkg.dir, 'eval', r.file)));
    expect(readEvalSet(pkg, 2).map((f) => f.labels.seed)).toEqual([rows[0]!.seed, rows[1]!.seed]);
  });

  it('names the range it cannot serve', () => {
    expect(() => readEvalSet(pkg, 10, rows.length - 4)).toThrow(new RegExp(`holds ${rows.length} faces; faces ${rows.length - 4}-${rows.length + 5} were asked for`));
    expect(() => readEvalSet(pkg, rows.length + 1)).toThrow(new RegExp(`holds ${rows.length} faces; ${rows.length + 1} were asked for`));
  });
});
