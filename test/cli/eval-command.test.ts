/**
 * `asyrp eval` on the shipped default model with its attribute reader. A zero direction is an identity
 * edit: with boosting off the reconstruction keeps every attribute (preservation near 100 %) and moves
 * nothing (success 0 %), so the metrics are checked against a known answer.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDirection } from '../../src/engine/directions/direction-file.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

describe('asyrp eval', () => {
  it('scores an identity edit as preserving everything and achieving nothing', async () => {
    const dir = tempDir('asyrp-eval-');
    const pkg = join(dir, 'models', 'toyfaces-32');
    cpSync(join(repoRoot, 'models', 'toyfaces-32'), pkg, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(pkg, 'model.json'), 'utf8'));
    writeFileSync(join(pkg, 'model.json'), JSON.stringify({ ...manifest, attributes: 'attributes.onnx' }));
    mkdirSync(join(pkg, 'directions'), { recursive: true });
    const [C, H, W] = manifest.hspace as number[];
    writeFileSync(
      join(pkg, 'directions', 'nothing.safetensors'),
      encodeDirection({ meta: { name: 'nothing', description: 'zero', raw: { evalTarget: 'smile:+' } }, timesteps: Int32Array.from([0]), deltaH: new Float32Array(C! * H! * W!), hspace: [C!, H!, W!] }),
    );
    const r = await runCli(['eval', '--model', 'toyfaces-32', '--direction', 'nothing', '--n', '12', '--strengths', '1', '--json'], { cwd: dir, overrides: { modelsDir: join(dir, 'models'), logLevel: 'warn' } });
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
  }, 120_000);

  it('explains a model without an attribute reader', async () => {
    const dir = tempDir('asyrp-eval-');
    const noReader = await runCli(['eval', '--model', 'analytic', '--direction', 'shift'], { cwd: dir, overrides: { modelsDir: join(repoRoot, 'test', 'models'), logLevel: 'warn' } });
    expect(noReader.code).toBe(1);
    expect(noReader.err).toMatch(/analytic ships no attribute reader/);
  });
});
