/**
 * Learning a direction from examples. On the analytic model h = AvgPool4x4(x_t), so examples that differ
 * by a pattern d that is constant on 4×4 blocks must give Δh_0 = pool(d) (P_0 ≈ x0 at t = 0) and a
 * Δh_t along pool(d) at every t (x_t is an affine, per-pixel function of x0 under exact DDIM).
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { decodeDirection } from '../../src/engine/directions/direction-file.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, testModels } from '../helpers/paths.js';

const R = 16;

/** The built-in direction: +0.3 in the red channel of the top-left 8×8 quarter, −0.3 in blue bottom-right. */
function pattern(): Float32Array {
  const d = new Float32Array(3 * R * R);
  for (let y = 0; y < R; y++)
    for (let x = 0; x < R; x++) {
      if (y < 8 && x < 8) d[0 * R * R + y * R + x] = 0.3;
      if (y >= 8 && x >= 8) d[2 * R * R + y * R + x] = -0.3;
    }
  return d;
}

function pool(d: Float32Array): Float32Array {
  const out = new Float32Array(3 * 4 * 4);
  for (let c = 0; c < 3; c++) for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) out[c * 16 + (y >> 2) * 4 + (x >> 2)]! += d[c * R * R + y * R + x]! / 16;
  return out;
}

async function writeImage(path: string, x: Float32Array): Promise<void> {
  const data = new Uint8Array(R * R * 3);
  for (let i = 0; i < R * R; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(Math.min(255, Math.max(0, (x[c * R * R + i]! + 1) * 127.5)));
  writeFileSync(path, await sharp(data, { raw: { width: R, height: R, channels: 3 } }).png().toBuffer());
}

/** A private copy of the analytic model, so learning can install directions into it. */
async function setup(n: number) {
  const dir = tempDir('asyrp-learn-');
  cpSync(join(testModels, 'analytic'), join(dir, 'models', 'analytic'), { recursive: true });
  mkdirSync(join(dir, 'pos'));
  mkdirSync(join(dir, 'neg'));
  const d = pattern();
  const rng = new GaussianRng(3);
  for (let i = 0; i < n; i++) {
    const base = new Float32Array(3 * R * R).map(() => Math.max(-0.6, Math.min(0.6, 0.25 * rng.nextNormal())));
    await writeImage(join(dir, 'neg', `${i}.png`), base);
    await writeImage(join(dir, 'pos', `${i}.png`), base.map((v, k) => v + d[k]!));
  }
  return { dir, overrides: { modelsDir: join(dir, 'models'), logLevel: 'warn' } };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('asyrp directions learn', () => {
  it('recovers the direction the analytic examples were built with, and installs it', async () => {
    const { dir, overrides } = await setup(6);
    const r = await runCli(['directions', 'learn', 'quarter', '--model', 'analytic', '--positive', 'pos', '--negative', 'neg', '--pairs', '--steps', '10', '--json'], { cwd: dir, overrides });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.perTimestep).toHaveLength(10);
    const file = join(dir, 'models', 'analytic', 'directions', 'quarter.safetensors');
    const learned = decodeDirection(readFileSync(file), file, [3, 4, 4]);
    expect(Array.from(learned.timesteps)).toEqual([0, 111, 222, 333, 444, 555, 666, 777, 888, 999]);
    const want = pool(pattern());
    const at = (k: number) => learned.deltaH.subarray(k * 48, (k + 1) * 48);
    // t = 0: x_0 is the image itself, so Δh_0 is pool(d) up to 8-bit rounding of the PNGs.
    at(0).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(0.01));
    for (let k = 0; k < 10; k++) expect(cosine(at(k), want)).toBeGreaterThan(0.9);
    expect(learned.meta).toMatchObject({ name: 'quarter', defaultStrength: 1, tEdit: report.recommendedTEdit });
    expect(learned.meta.raw.positives).toBe('6');
    expect(report.perTimestep[0].separation).toBe(1);

    // Installed: an edit can use it right away.
    const edit = await runCli(['edit', 'neg/0.png', 'quarter', 'steps:10', '--model', 'analytic', '-o', 'out.png'], { cwd: dir, overrides });
    expect(edit.code).toBe(0);
  });

  it('is deterministic', async () => {
    const { dir, overrides } = await setup(3);
    const args = (name: string) => ['directions', 'learn', name, '--model', 'analytic', '--positive', 'pos', '--negative', 'neg', '--steps', '6'];
    await runCli(args('a'), { cwd: dir, overrides });
    await runCli(args('b'), { cwd: dir, overrides });
    const read = (n: string) => decodeDirection(readFileSync(join(dir, 'models', 'analytic', 'directions', `${n}.safetensors`)), n, [3, 4, 4]).deltaH;
    expect(Buffer.from(read('a').buffer).equals(Buffer.from(read('b').buffer))).toBe(true);
  });

  it.each([
    [['--positive', 'empty', '--negative', 'neg'], /no positive examples/],
    [['--positive', 'pos', '--negative', 'nothing-here'], /--negative: .*nothing-here does not exist/],
    [['--positive', 'pos', '--negative', 'bad'], /bad\/x.png: the file is text/],
    [['--positive', 'pos', '--negative', 'neg/0.png', '--pairs'], /--pairs needs as many positive as negative examples/],
  ])('%j fails with a clear error', async (extra, pattern) => {
    const { dir, overrides } = await setup(2);
    mkdirSync(join(dir, 'empty'));
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'x.png'), 'not an image');
    const r = await runCli(['directions', 'learn', 'x', '--model', 'analytic', '--steps', '4', ...extra], { cwd: dir, overrides });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern);
  });

  it('refuses to overwrite without --force, and a learned file does not load into another model', async () => {
    const { dir, overrides } = await setup(2);
    const args = ['directions', 'learn', 'q', '--model', 'analytic', '--positive', 'pos', '--negative', 'neg', '--steps', '4'];
    expect((await runCli(args, { cwd: dir, overrides })).code).toBe(0);
    const again = await runCli(args, { cwd: dir, overrides });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists; pass --force/);
    expect((await runCli([...args, '--force'], { cwd: dir, overrides })).code).toBe(0);
    const file = join(dir, 'models', 'analytic', 'directions', 'q.safetensors');
    expect(() => decodeDirection(readFileSync(file), file, [16, 8, 8])).toThrow(/this model's h-space needs \[4,16,8,8\]/);
  });
});
