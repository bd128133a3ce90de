/**
 * The held-out evaluation set of the shipped default model, read in slices: `--skip` lets a choice made on
 * faces 0-99 be checked on faces 100-199, so a slice must be exactly those rows, in order.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { readEvalSet } from '../../src/engine/eval/eval-set.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import type { EngineError } from '../../src/engine/errors.js';

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

  it('reads another folder in the same layout, and says what is wrong with a bad one', () => {
    const dir = tempDir('asyrp-evalset-');
    mkdirSync(join(dir, 'img'));
    copyFileSync(join(pkg.dir, 'eval', rows[7]!.file), join(dir, 'img', 'a.png'));
    copyFileSync(join(pkg.dir, 'eval', rows[8]!.file), join(dir, 'img', 'b.png'));
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png', seed: 1 })}\n${JSON.stringify({ file: 'img/b.png', seed: 2 })}\n`);
    expect(readEvalSet(pkg, 1, 1, dir)).toEqual([{ file: join(dir, 'img', 'b.png'), labels: { file: 'img/b.png', seed: 2 } }]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as EngineError).code, (e as Error).message];
      }
      return ['no error', ''];
    };
    expect(code(() => readEvalSet(pkg, 1, 0, join(dir, 'img')))).toEqual(['IO_FAILED', `${join(dir, 'img', 'labels.jsonl')} is missing: an evaluation folder holds labels.jsonl and the images it names`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png' })}\n${JSON.stringify({ file: 'img/gone.png' })}\n{oops\n`);
    expect(code(() => readEvalSet(pkg, 2, 0, dir))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')}: line 3 is not JSON`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: 'img/a.png' })}\n${JSON.stringify({ file: 'img/gone.png' })}\n`);
    expect(readEvalSet(pkg, 1, 0, dir)).toHaveLength(1);
    expect(code(() => readEvalSet(pkg, 2, 0, dir))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')} names ${join(dir, 'img', 'gone.png')}, which is missing`]);
    writeFileSync(join(dir, 'labels.jsonl'), `${JSON.stringify({ file: '../img/a.png' })}\n`);
    expect(code(() => readEvalSet(pkg, 1, 0, dir))).toEqual(['IO_FAILED', `${join(dir, 'labels.jsonl')}: line 1 has no valid "file"`]);
  });
});
