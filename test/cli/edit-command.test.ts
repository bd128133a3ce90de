import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.js';
import { tempDir, testModels } from '../helpers/paths.js';

const overrides = { modelsDir: testModels, logLevel: 'warn' };

async function photo(dir: string): Promise<string> {
  const path = join(dir, 'in.jpg');
  writeFileSync(path, await sharp({ create: { width: 40, height: 30, channels: 3, background: '#884422' } }).jpeg().toBuffer());
  return path;
}

describe('asyrp edit', () => {
  it('edits an image with a recipe and writes the PNG, a before|after and a JSON summary', async () => {
    const dir = tempDir();
    await photo(dir);
    const r = await runCli(['edit', 'in.jpg', 'shift:0.5', 'steps:6', 'seed:3', '--model', 'analytic', '-o', 'out.png', '--compare', 'cmp.png', '--json'], { cwd: dir, overrides });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ model: 'analytic', recipe: 'shift:0.5 steps:6 seed:3', understood: { inversionSteps: 6, generationSteps: 6, tEdit: 600, tBoost: 200, seed: 3 } });
    expect(Object.keys(summary.timingsMs)).toEqual(['decode', 'inversion', 'editing', 'denoising', 'boosting', 'total']);
    const out = await sharp(readFileSync(join(dir, 'out.png'))).metadata();
    expect([out.format, out.width, out.height]).toEqual(['png', 16, 16]);
    const cmp = await sharp(readFileSync(join(dir, 'cmp.png'))).metadata();
    expect([cmp.width, cmp.height]).toEqual([36, 16]);
  });

  it('gives the same bytes for the same seed', async () => {
    const dir = tempDir();
    await photo(dir);
    await runCli(['edit', 'in.jpg', 'shift', 'steps:5', '--model', 'analytic', '-o', 'a.png'], { cwd: dir, overrides });
    await runCli(['edit', 'in.jpg', 'shift', 'steps:5', '--model', 'analytic', '-o', 'b.png'], { cwd: dir, overrides });
    expect(readFileSync(join(dir, 'a.png')).equals(readFileSync(join(dir, 'b.png')))).toBe(true);
  });

  it('points at a bad recipe token and lists the directions', async () => {
    const dir = tempDir();
    await photo(dir);
    const r = await runCli(['edit', 'in.jpg', 'shfit:0.5', '--model', 'analytic'], { cwd: dir, overrides });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Unknown direction "shfit"');
    expect(r.err).toContain('Directions: global, shift.');
  });

  it('says in one line on stderr when the input is outside the model\'s domain (a photo for a toy model), and still edits it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big.png'), await sharp({ create: { width: 300, height: 200, channels: 3, background: '#335577' } }).png().toBuffer());
    const r = await runCli(['edit', 'big.png', 'shift', 'steps:4', '--model', 'analytic', '-o', 'out.png', '--json'], { cwd: dir, overrides });
    expect(r.code).toBe(0);
    expect(r.err).toContain('asyrp edit: Note: this model only edits per-pixel Gaussian test images, 16 px; this looks like a photo');
    expect(r.err).toContain('Real models: docs/models.md.');
    expect(JSON.parse(r.out).domainNote).toContain('docs/models.md');
    // A small image, inside the domain: no note.
    await photo(dir);
    expect((await runCli(['edit', 'in.jpg', 'shift', 'steps:4', '--model', 'analytic', '-o', 'out.png'], { cwd: dir, overrides })).err).not.toContain('docs/models.md');
  });

  it('names an unknown recipe option and the closest valid one', async () => {
    const dir = tempDir();
    await photo(dir);
    const r = await runCli(['edit', 'in.jpg', 'shift', '0.8', 'stepz:20', '--model', 'analytic'], { cwd: dir, overrides });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Unknown option "stepz"; did you mean steps?');
    expect(r.err).not.toContain('out of range');
  });

  it.each([
    [['edit', 'missing.png', 'shift', '--model', 'analytic'], /cannot read .*missing.png: ENOENT/, 1],
    [['edit', 'in.jpg', 'shift', '--model', 'nope'], /model "nope" is not installed/, 1],
    [['edit', 'in.jpg', '--frobnicate'], /unknown option --frobnicate/, 2],
    [['edit'], /usage: asyrp edit/, 2],
  ])('%j fails clearly', async (argv, pattern, code) => {
    const dir = tempDir();
    await photo(dir);
    const r = await runCli(argv as string[], { cwd: dir, overrides });
    expect(r.code).toBe(code);
    expect(r.err).toMatch(pattern);
  });

  it('refuses a text file named .png without writing output', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'fake.png'), 'not really a png');
    const r = await runCli(['edit', 'fake.png', 'shift', '--model', 'analytic', '-o', 'o.png'], { cwd: dir, overrides });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the file is text; send a PNG, JPEG, WebP or GIF image/);
  });
});

describe('asyrp models / directions', () => {
  it('lists models and directions', async () => {
    const dir = tempDir();
    const models = await runCli(['models', '--json'], { cwd: dir, overrides });
    const ids = JSON.parse(models.out).models.map((m: { id: string }) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['analytic', 'tiny-unet']));
    const dirs = await runCli(['directions', '--model', 'analytic'], { cwd: dir, overrides });
    expect(dirs.out).toMatch(/analytic: 2 directions/);
    expect(dirs.out).toMatch(/shift .*t_edit 600/);
  });
});
