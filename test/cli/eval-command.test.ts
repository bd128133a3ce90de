/**
 * `asyrp eval` on the shipped default model with its attribute reader. A zero direction is an identity
 * edit: with boosting off the reconstruction keeps every attribute (preservation near 100 %) and moves
 * nothing (success 0 %), so the metrics are checked against a known answer.
 *
 * Cost: every eval inverts and regenerates its faces through the UNet, so the runs here use the recipe's
 * steps option. The identity check needs a close reconstruction (20 steps: at 10 an occasional face already
 * drifts past the smile threshold, at 2 none is kept); the other tests check flags, names, sums and that
 * two runs agree, which hold at any step count, so they run 4 steps. The eval-set glasses run is
 * shared by the --reader and --faces tests (the same invocation).
 *
 * The model's eval set is rendered on demand into the data folder (src/cli/eval-faces.ts); the copy of the
 * package here names a 16-face set so that the render takes a second.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDirection } from '../../src/engine/directions/direction-file.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** Steps for the tests whose assertions do not depend on reconstruction quality. */
const FEW = 'steps:4';
/** Faces in the eval set the package copy names. */
const total = 16;

type Opts = { cwd: string; overrides: Record<string, unknown> };
let dir: string;
let opts: Opts;
/** Where the eval set is rendered (the data folder's eval-sets/toyfaces-32). */
let evalDir: string;
/** A copy of the default package with identity directions "nothing" (smile:+) and "nothing-red" (hair_colour:red). */
let pkg: string;
const glassesArgs = ['eval', '--model', 'toyfaces-32', '--direction', `glasses ${FEW}`, '--n', '6', '--strengths', '1', '--json'];
/** `glassesArgs` on the model's eval set and its reader. */
let glassesOwn: { code: number; out: string; err: string };

function copyPackage(into: string): string {
  const to = join(into, 'models', 'toyfaces-32');
  cpSync(join(repoRoot, 'models', 'toyfaces-32'), to, { recursive: true });
  return to;
}

beforeAll(async () => {
  dir = tempDir('asyrp-eval-');
  pkg = copyPackage(dir);
  const manifest = JSON.parse(readFileSync(join(pkg, 'model.json'), 'utf8'));
  writeFileSync(join(pkg, 'model.json'), JSON.stringify({ ...manifest, attributes: 'attributes.onnx', evalSet: { ...manifest.evalSet, faces: total } }));
  mkdirSync(join(pkg, 'directions'), { recursive: true });
  const [C, H, W] = manifest.hspace as number[];
  for (const [name, evalTarget] of [['nothing', 'smile:+'], ['nothing-red', 'hair_colour:red']] as const) {
    writeFileSync(
      join(pkg, 'directions', `${name}.safetensors`),
      encodeDirection({ meta: { name, description: 'zero', raw: { evalTarget } }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(C! * H! * W!), hspace: [C!, H!, W!] }),
    );
  }
  opts = { cwd: dir, overrides: { modelsDir: join(dir, 'models'), dataDir: join(dir, 'data'), logLevel: 'warn' } };
  evalDir = join(dir, 'data', 'eval-sets', 'toyfaces-32');
  glassesOwn = await runCli(glassesArgs, opts);
}, 120_000);

describe('asyrp eval', () => {
  it('renders the model eval set on first use, says so, and judges by its twins', () => {
    expect(glassesOwn.code).toBe(0);
    expect(glassesOwn.err).toBe(`asyrp eval: rendering the eval set of toyfaces-32 (${total} faces of render seed 4242, with their twins) into ${evalDir}\n`);
    const out = JSON.parse(glassesOwn.out);
    expect(out.faces).toBe(evalDir);
    expect(out.evalSet).toEqual({ renderSeed: 4242, faces: total });
    expect(out.rows[0].twin.key).toBe('glasses=1');
    expect(readFileSync(join(evalDir, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(total);
  });

  it('scores an identity edit as preserving everything and achieving nothing', async () => {
    const r = await runCli(['eval', '--model', 'toyfaces-32', '--direction', 'nothing steps:20', '--n', '12', '--strengths', '1', '--json'], opts);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.targets).toEqual([{ kind: 'scalar', attribute: 'smile', sign: 1 }]);
    const off = out.rows.find((row: { boosting: boolean }) => !row.boosting);
    expect(off.eligible).toBeGreaterThan(3);
    // Reconstruction is not exact, so an occasional face may drift past the threshold; an edit would move most.
    expect(off.success).toBeLessThanOrEqual(0.1);
    expect(off.preservation).toBeGreaterThanOrEqual(0.75);
    expect(off.faceScore).toBeGreaterThan(0.5);
    expect(Object.keys(off.preservedBy).sort()).toEqual(['background', 'eyes_open', 'face_shape', 'glasses', 'hair_colour', 'hair_long', 'skin_tone']);
  }, 60_000);

  it('breaks a class target down by the class each face started in', async () => {
    const args = ['eval', '--model', 'toyfaces-32', '--direction', `nothing-red ${FEW}`, '--n', '10', '--strengths', '1'];
    const r = await runCli([...args, '--json'], opts);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const off = JSON.parse(r.out).rows.find((row: { boosting: boolean }) => !row.boosting);
    const from = off.successFrom as Record<string, [number, number]>;
    // Red-haired faces are not eligible; every eligible face is counted under exactly one other colour.
    expect(Object.keys(from).every((k) => ['black', 'blonde', 'brown'].includes(k))).toBe(true);
    expect(Object.values(from).reduce((a, [, all]) => a + all, 0)).toBe(off.eligible);
    expect(Object.values(from).reduce((a, [ok]) => a + ok, 0)).toBe(Math.round(off.success * off.eligible));
    const table = await runCli(args, opts);
    expect(table.out).toMatch(/success by the class each face started in/);
    expect(table.out).toMatch(/strength 1, boosting off: (black|blonde|brown) \d+\/\d+/);
    // The table shows the same counts as the JSON of the same evaluation.
    const line = Object.entries(from).sort(([a], [b]) => a.localeCompare(b)).map(([k, [ok, all]]) => `${k} ${ok}/${all}`).join(', ');
    expect(table.out).toContain(`- strength 1, boosting off: ${line}\n`);
  }, 60_000);

  it('judges with another reader given by --reader, and refuses one that lacks an attribute', async () => {
    // The package's own reader under another name must judge exactly as the package default does.
    cpSync(join(pkg, 'attributes.onnx'), join(dir, 'judge.onnx'));
    const judged = await runCli([...glassesArgs, '--reader', 'judge.onnx'], opts);
    expect(judged.code).toBe(0);
    expect(glassesOwn.code).toBe(0);
    const a = JSON.parse(glassesOwn.out);
    const b = JSON.parse(judged.out);
    expect(judged.err).toBe('');
    expect(a.reader).toBe('package');
    expect(b.reader).toBe(join(dir, 'judge.onnx'));
    expect(b.rows).toEqual(a.rows);
    const missing = await runCli([...glassesArgs, '--reader', 'nowhere.onnx'], opts);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/attribute reader .*nowhere\.onnx is missing/);
    // A schema that names an attribute the reader has no output for is refused by name, before any edit
    // (on a package of its own, so the shared one stays intact).
    const other = tempDir('asyrp-eval-');
    const otherPkg = copyPackage(other);
    cpSync(join(pkg, 'attributes.onnx'), join(other, 'judge.onnx'));
    const schema = JSON.parse(readFileSync(join(otherPkg, 'attributes.json'), 'utf8'));
    writeFileSync(join(otherPkg, 'attributes.json'), JSON.stringify({ ...schema, binary: [...schema.binary, 'beard'] }));
    const bad = await runCli([...glassesArgs, '--reader', 'judge.onnx'], { cwd: other, overrides: { modelsDir: join(other, 'models'), dataDir: join(dir, 'data'), logLevel: 'warn' } });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/judge\.onnx cannot judge toyfaces-32: it has no output beard/);
  }, 60_000);

  it('evaluates a later slice of the faces with --skip and refuses a bad one', async () => {
    const args = ['eval', '--model', 'toyfaces-32', '--direction', `glasses ${FEW}`, '--n', '4', '--strengths', '1'];
    const later = await runCli([...args, '--skip', String(total - 4)], opts);
    expect(later.code).toBe(0);
    expect(later.out).toContain(`on 4 held-out faces (${total - 4}-${total - 1})`);
    const past = await runCli([...args, '--skip', String(total - 2)], opts);
    expect(past.code).toBe(1);
    expect(past.err).toContain(`holds ${total} faces; faces ${total - 2}-${total + 1} were asked for`);
    const negative = await runCli([...args, '--skip', '-1'], opts);
    expect(negative.code).not.toBe(0);
    expect(negative.err).toMatch(/--skip must be a whole number/);
  }, 60_000);

  it('evaluates another labelled folder with --faces and names a missing one', async () => {
    const rows = readFileSync(join(evalDir, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 6).map((l) => JSON.parse(l) as { file: string });
    mkdirSync(join(dir, 'mine', 'images'), { recursive: true });
    // The faces with their twins and regions, where they have one, so both judges see the same set.
    const beside = ['twins', 'regions'].flatMap((kind) => readdirSync(join(evalDir, kind)).map((key) => join(kind, key)));
    for (const r of rows) {
      cpSync(join(evalDir, r.file), join(dir, 'mine', r.file));
      for (const b of beside) {
        const name = join(b, r.file.replace('images/', ''));
        if (existsSync(join(evalDir, name))) cpSync(join(evalDir, name), join(dir, 'mine', name), { recursive: true });
      }
    }
    writeFileSync(join(dir, 'mine', 'labels.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const mine = await runCli([...glassesArgs, '--faces', 'mine'], opts);
    expect(mine.err).toBe('');
    expect(mine.code).toBe(0);
    // The same six faces in another folder are the same evaluation.
    const a = JSON.parse(mine.out);
    const b = JSON.parse(glassesOwn.out);
    expect(a.faces).toBe(join(dir, 'mine'));
    expect(a.evalSet).toBeUndefined();
    expect(b.faces).toBe(evalDir);
    expect(a.rows[0].twin.eligible).toBeGreaterThan(0);
    expect(a.rows).toEqual(b.rows);
    const table = await runCli(glassesArgs.filter((x) => x !== '--json').concat('--faces', 'mine', '--n', '2'), opts);
    expect(table.out).toContain(`on 2 faces of ${join(dir, 'mine')}`);
    // A truncated image is refused by name, not as "some image".
    const bytes = readFileSync(join(dir, 'mine', rows[1]!.file));
    writeFileSync(join(dir, 'mine', rows[1]!.file), bytes.subarray(0, 40));
    const truncated = await runCli([...glassesArgs, '--faces', 'mine'], opts);
    expect(truncated.code).toBe(1);
    expect(truncated.err).toContain(join(dir, 'mine', rows[1]!.file));
    const missing = await runCli([...glassesArgs, '--faces', 'nowhere'], opts);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`${join(dir, 'nowhere', 'labels.jsonl')} is missing`);
  }, 60_000);

  it('breaks the rows down by the faces\' render labels with --by and refuses a label the faces lack', async () => {
    const labels = readFileSync(join(evalDir, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 8).map((l) => JSON.parse(l) as Record<string, unknown>);
    const args = ['eval', '--model', 'toyfaces-32', '--direction', `hair-red ${FEW}`, '--n', '8', '--strengths', '1'];
    const r = await runCli([...args, '--by', 'hair_colour,skin_tone', '--json'], opts);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.by).toEqual(['hair_colour', 'skin_tone']);
    for (const row of out.rows as { eligible: number; success: number; preservation: number; byGroup: Record<string, { eligible: number; success: number; preserved: number }> }[]) {
      const groups = Object.entries(row.byGroup);
      // Every group is a pair of label values some of these faces have, and the groups add up to the row.
      for (const [name] of groups) expect(labels.some((l) => `${l.hair_colour}/${l.skin_tone}` === name)).toBe(true);
      expect(groups.reduce((a, [, g]) => a + g.eligible, 0)).toBe(row.eligible);
      expect(groups.reduce((a, [, g]) => a + g.success, 0)).toBe(Math.round(row.success * row.eligible));
      expect(groups.reduce((a, [, g]) => a + g.preserved, 0)).toBe(Math.round(row.preservation * row.eligible));
      // Red-haired faces are not eligible for hair-red.
      expect(groups.every(([name]) => !name.startsWith('red/'))).toBe(true);
    }
    const table = await runCli([...args, '--by', 'skin_tone'], opts);
    expect(table.out).toContain('by skin_tone (reached / kept / eligible):');
    expect(table.out).toMatch(/- strength 1, boosting on: (dark|light|medium) \d+\/\d+\/\d+/);
    const unknown = await runCli([...args, '--by', 'eye_colour'], opts);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('--by eye_colour: the labels of');
    expect(unknown.err).toContain('have no "eye_colour"');
    const bad = await runCli([...args, '--by', 'skin_tone,skin_tone'], opts);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--by takes label names/);
  }, 60_000);

  it('explains a model without an eval set or an attribute reader', async () => {
    const dir = tempDir('asyrp-eval-');
    const analytic = { cwd: dir, overrides: { modelsDir: join(repoRoot, 'test', 'models'), dataDir: join(dir, 'data'), logLevel: 'warn' } };
    const noSet = await runCli(['eval', '--model', 'analytic', '--direction', 'shift'], analytic);
    expect(noSet.code).not.toBe(0);
    expect(noSet.err).toMatch(/analytic names no eval set to render \("evalSet" in model.json\): give --faces <folder> of labelled faces/);
    const samples = join(repoRoot, 'models', 'toyfaces-32', 'samples');
    const noReader = await runCli(['eval', '--model', 'analytic', '--direction', 'shift', '--faces', samples], analytic);
    expect(noReader.code).toBe(1);
    expect(noReader.err).toMatch(/analytic ships no attribute reader .* has no twins/);
  });
});
