/**
 * `asyrp eval` with the twin judge, on the analytic test model (tools/make_analytic_model.py: h is the 4×4
 * average of x_t, so a Δh on one h cell moves exactly one 4×4 block of the 16×16 image). A faces folder
 * carries twins whose region is that block: a direction on the block reaches its twin and keeps the rest, a
 * zero direction reaches nothing, a direction on another block misses the twin and spoils the outside. The
 * package has no attribute reader, so the twin judge is the only column.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDirection } from '../../src/engine/directions/direction-file.js';
import { encodePng } from '../../src/engine/image/image-io.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, testModels } from '../helpers/paths.js';

const R = 16;
const FACES = 12;
/** The edited h cell: row 1, column 2, red channel, i.e. pixels y 4-7, x 8-11. */
const CELL = { c: 0, y: 1, x: 2 };
/** How far the twin's block is from the input, on the engine's −1..1 scale. */
const TWIN_STEP = 0.6;

function png(pixel: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const data = new Uint8Array(R * R * 3);
  for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) for (let c = 0; c < 3; c++) data[(y * R + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(pixel(x, y, c))));
  return encodePng({ data, width: R, height: R });
}

const inBlock = (x: number, y: number) => Math.floor(y / 4) === CELL.y && Math.floor(x / 4) === CELL.x;
/** The analytic model's mean image (tools/make_analytic_model.py, analytic_params) plus a small smooth per-face change, in 0..255. */
const mu = (x: number, y: number, c: number) => 0.5 * Math.sin(Math.PI * ((y + 0.5) / R + c / 3)) * Math.cos(Math.PI * ((x + 0.5) / R - 0.25 * c));
const face = (i: number) => (x: number, y: number, c: number) => 127.5 * (1 + mu(x, y, c) + 0.1 * Math.sin((x + 3 * i) / 3 + c) * Math.cos((y - i) / 4));

function direction(name: string, cell: { c: number; y: number; x: number }, amount: number): Uint8Array {
  const deltaH = new Float32Array(3 * 4 * 4);
  deltaH[cell.c * 16 + cell.y * 4 + cell.x] = amount;
  return encodeDirection({ meta: { name, description: name, raw: { evalTarget: 'glasses:1', tEdit: '500' } }, timesteps: Int32Array.from([0]), deltaH, hspace: [3, 4, 4] });
}

let dir: string;
let opts: { cwd: string; overrides: Record<string, unknown> };

beforeAll(async () => {
  dir = tempDir('asyrp-eval-twins-');
  const pkg = join(dir, 'models', 'analytic');
  cpSync(join(testModels, 'analytic'), pkg, { recursive: true });
  // A negative Δh raises the block: P_t = (x_t − √(1−ᾱ)·ε_edit)/√ᾱ and ε* grows with h (docs/method.md §1).
  for (const [name, cell, amount] of [['nothing', CELL, 0], ['bump', CELL, -0.07], ['elsewhere', { c: 1, y: 2, x: 0 }, -0.2]] as const) {
    writeFileSync(join(pkg, 'directions', `${name}.safetensors`), direction(name, cell, amount));
  }
  const faces = join(dir, 'faces');
  for (const sub of ['images', 'twins/glasses=1', 'regions/glasses=1']) mkdirSync(join(faces, sub), { recursive: true });
  const labels: string[] = [];
  for (let i = 0; i < FACES; i++) {
    const file = `${String(i).padStart(6, '0')}.png`;
    writeFileSync(join(faces, 'images', file), await png(face(i)));
    // The last face has "glasses" already: no twin, so it is not eligible.
    if (i < FACES - 1) {
      writeFileSync(join(faces, 'twins/glasses=1', file), await png((x, y, c) => face(i)(x, y, c) + (inBlock(x, y) && c === CELL.c ? TWIN_STEP * 127.5 : 0)));
      writeFileSync(join(faces, 'regions/glasses=1', file), await png((x, y) => (inBlock(x, y) ? 255 : 0)));
    }
    labels.push(JSON.stringify({ file: `images/${file}`, skin_tone: i % 2 ? 'dark' : 'light', glasses: i === FACES - 1 ? 1 : 0, hair_colour: 'black' }));
  }
  writeFileSync(join(faces, 'labels.jsonl'), labels.join('\n') + '\n');
  opts = { cwd: dir, overrides: { modelsDir: join(dir, 'models'), logLevel: 'warn' } };
});

const evalJson = async (direction: string, extra: string[] = []) => {
  const r = await runCli(['eval', '--model', 'analytic', '--direction', direction, '--faces', 'faces', '--n', String(FACES), '--strengths', '1', '--json', ...extra], opts);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};

type TwinRow = { strength: number; boosting: boolean; judge: string; twin: { key: string; eligible: number; success: number; preservation: number; progress: number; outside: number; faces: { index: number; progress: number }[] }; byFacet: Record<string, Record<string, { eligible: number; success: number; preserved: number }>>; worstGroup?: { facet: string; value: string; eligible: number; success: number } };

/** The row at strength 1 with boosting off: plain DDIM, so the analytic model reconstructs these faces closely. */
const plain = (out: { rows: TwinRow[] }) => out.rows.find((r) => !r.boosting)!;

describe('asyrp eval, judged by rendered twins', () => {
  it('passes an edit that reaches the twin inside the region and keeps the rest', async () => {
    const out = await evalJson('bump');
    expect(out.reader).toBe('none');
    const row = plain(out);
    expect(row.judge).toBe('twin');
    expect(row.twin.key).toBe('glasses=1');
    expect(row.twin.eligible).toBe(FACES - 1);
    expect(row.twin.progress).toBeGreaterThan(0.5);
    expect(row.twin.outside).toBeLessThan(8);
    expect(row.twin.success).toBe(1);
    expect(row.twin.preservation).toBe(1);
    // No reader, no reader columns.
    expect(row).not.toHaveProperty('success');
    expect(row.twin.faces.map((f) => f.index)).toEqual([...Array(FACES - 1).keys()]);
    expect(row.twin.faces.every((f) => f.progress > 0.5)).toBe(true);
  });

  it('saves the judged edits with --save, named like their faces', async () => {
    await evalJson('bump', ['--save', 'edits']);
    expect(readdirSync(join(dir, 'edits')).sort()).toEqual(['strength-1', 'strength-1-plain']);
    expect(readdirSync(join(dir, 'edits', 'strength-1-plain'))).toHaveLength(FACES);
  });

  it('fails an identity edit on success and a misplaced one on success and preservation', async () => {
    const none = plain(await evalJson('nothing'));
    expect(Math.abs(none.twin.progress)).toBeLessThan(0.1);
    expect(none.twin.success).toBe(0);
    expect(none.twin.preservation).toBe(1);
    const off = plain(await evalJson('elsewhere'));
    expect(off.twin.success).toBe(0);
    expect(off.twin.preservation).toBe(0);
    expect(off.twin.outside).toBeGreaterThan(8);
  });

  it('breaks every row down by render label and names the worst group, in JSON and in the table', async () => {
    const out = await evalJson('bump');
    for (const row of out.rows as TwinRow[]) {
      const skin = row.byFacet.skin_tone!;
      expect(Object.keys(skin).sort()).toEqual(['dark', 'light']);
      expect(skin.dark!.eligible + skin.light!.eligible).toBe(row.twin.eligible);
      expect(skin.dark!.success + skin.light!.success).toBe(Math.round(row.twin.success * row.twin.eligible));
      // Only faces without glasses have a twin: the glasses facet has one value.
      expect(Object.keys(row.byFacet.glasses!)).toEqual(['0']);
      expect(row.worstGroup).toBeDefined();
      const w = row.worstGroup!;
      expect(w.success).toBeLessThanOrEqual(row.twin.success);
      expect(row.byFacet[w.facet]![w.value]!.eligible).toBe(w.eligible);
    }
    const table = await runCli(['eval', '--model', 'analytic', '--direction', 'bump', '--faces', 'faces', '--n', String(FACES), '--strengths', '1'], opts);
    expect(table.code).toBe(0);
    expect(table.out).toContain('| strength | boosting | twin: eligible | success | preservation | worst group (success / preservation) |');
    expect(table.out).toMatch(/\| 1 \| off \| 11 \| 100 % \| 100 % \| (skin_tone=(dark|light)|hair_colour=black|glasses=0): 100 % \/ 100 % of \d+ \|/);
    expect(table.out).toContain('by render label, judged by the twin judge (twins/glasses=1');
  });

  it('explains a faces folder without twins for the edit and a package without a reader', async () => {
    const r = await runCli(['eval', '--model', 'analytic', '--direction', 'bump', '--faces', 'faces', '--n', '2', '--strengths', '1', '--target', 'bump=smile:+'], opts);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/analytic ships no attribute reader .* has no twins for this edit \(smile=1\)/);
  });
});
