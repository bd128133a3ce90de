/**
 * `asyrp generate`: samples from noise through the engine. The analytic test model (16×16, no reader)
 * is fast enough to check the grid and the seeding; the shipped toyfaces-32 checks the face rate with
 * its real attribute reader.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, type RgbImage } from '../../src/engine/image/image-io.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

const limits = { maxInputBytes: 50_000_000, maxInputPixels: 50_000_000 };
const analytic = { overrides: { modelsDir: testModels, logLevel: 'warn' } };

async function readPng(path: string): Promise<RgbImage> {
  return decodeImage(readFileSync(path), limits);
}

/** Tile k of a grid of 16×16 samples shown 4× (64 px) with 2 px gaps, 10 per row. */
function tile(img: RgbImage, k: number): Uint8Array {
  const x0 = (k % 10) * 66;
  const y0 = Math.floor(k / 10) * 66;
  const out = new Uint8Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) out.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + 64) * 3), y * 64 * 3);
  return out;
}

describe('asyrp generate', () => {
  it('writes a PNG grid of the samples, 10 per row, enlarged with nearest neighbour', async () => {
    const dir = tempDir('asyrp-generate-');
    const r = await runCli(['generate', '--model', 'analytic', '--n', '13', '--steps', '10', '--out', 'out/grid.png'], { cwd: dir, ...analytic });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/analytic ships no attribute reader .*generating without a face rate/);
    expect(r.out).toMatch(/13 samples from noise, 10 DDIM steps/);
    expect(r.out).toMatch(/read as faces: not measured/);
    const img = await readPng(join(dir, 'out', 'grid.png'));
    // 16 px samples shown at 4× (64 px): 10 + 3 tiles, 2 px white gaps.
    expect([img.width, img.height]).toEqual([10 * 64 + 9 * 2, 2 * 64 + 2]);
    // Every model pixel is a uniform 4×4 block.
    const t = tile(img, 12);
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++)
        for (let c = 0; c < 3; c++) expect(t[(y * 64 + x) * 3 + c]).toBe(t[((y & ~3) * 64 + (x & ~3)) * 3 + c]);
    // The unused cells of the last row stay white.
    expect(tile(img, 15).every((v) => v === 255)).toBe(true);
  }, 60_000);

  it('is deterministic for a seed, independent of --batch, and seeds sample k with seed + k', async () => {
    const dir = tempDir('asyrp-generate-');
    const run = async (file: string, ...flags: string[]) => {
      const r = await runCli(['generate', '--model', 'analytic', '--n', '7', '--steps', '10', '--out', file, '--json', ...flags], { cwd: dir, ...analytic });
      expect(r.code).toBe(0);
      return readFileSync(join(dir, file));
    };
    const a = await run('a.png', '--seed', '5', '--batch', '7');
    const b = await run('b.png', '--seed', '5', '--batch', '2');
    const c = await run('c.png', '--seed', '5', '--batch', '7');
    const d = await run('d.png', '--seed', '6', '--batch', '3');
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
    expect(d.equals(a)).toBe(false);
    // Sample k of seed 6 is sample k + 1 of seed 5.
    const [ia, id] = [await readPng(join(dir, 'a.png')), await readPng(join(dir, 'd.png'))];
    for (let k = 0; k < 6; k++) expect(Buffer.from(tile(id, k)).equals(Buffer.from(tile(ia, k + 1)))).toBe(true);
    expect(Buffer.from(tile(id, 0)).equals(Buffer.from(tile(ia, 0)))).toBe(false);
  }, 60_000);

  it('reports the face rate of toyfaces-32 samples read by its attribute reader', async () => {
    const dir = tempDir('asyrp-generate-');
    const r = await runCli(['generate', '--model', 'toyfaces-32', '--n', '20', '--json'], { cwd: dir, overrides: { modelsDir: join(repoRoot, 'models'), logLevel: 'warn' } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ model: 'toyfaces-32', n: 20, steps: 40, seed: 0, grid: null });
    // Measured: 20 / 20 (mean face score 0.9999) for seeds 0..19 with the shipped weights; the bar is issue #3's 90 %.
    expect(out.faceRate).toBeGreaterThanOrEqual(0.9);
    expect(out.meanFaceScore).toBeGreaterThan(0.5);
    expect(out.meanFaceScore).toBeLessThanOrEqual(1);
    expect(out.wallSeconds).toBeGreaterThan(0);
  }, 180_000);

  it('rejects bad flags with a clear message and exit code 2', async () => {
    const dir = tempDir('asyrp-generate-');
    const cases: [string[], RegExp][] = [
      [['--n', '0'], /--n must be a whole number from 1 to 10000; got "0"/],
      [['--n', 'many'], /--n must be a whole number/],
      [['--steps', '1'], /--steps must be a whole number from 2 to 1000/],
      [['--batch', '2.5'], /--batch must be a whole number from 1 to 256/],
      [['--seed', '-1'], /--seed must be a whole number from 0/],
      [['--n', '10', '--seed', String(2 ** 32 - 5)], /--seed must be a whole number from 0 to 4294967286/],
      [['--out', 'grid.jpg'], /--out writes a PNG grid; give a path ending in \.png/],
      [['--count', '3'], /unknown option --count/],
      [['--n'], /--n needs a value/],
      [['extra'], /unexpected argument "extra"/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['generate', '--model', 'analytic', ...flags], { cwd: dir, ...analytic });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.err, flags.join(' ')).toMatch(new RegExp(`^asyrp generate: ${message.source}`));
      expect(r.out).toBe('');
    }
    const missing = await runCli(['generate', '--model', 'no-such-model'], { cwd: dir, ...analytic });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^asyrp generate: .*no-such-model/);
  }, 60_000);
});
