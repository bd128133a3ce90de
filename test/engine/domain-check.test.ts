/**
 * Honest about the model's domain: the default package's own reader flags an image with no face, a toy
 * model flags a photo, and an input inside the domain gets no note. Real reader, real sharp.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { prepareInput } from '../../src/engine/pipeline/edit-image.js';
import { checkDomain } from '../../src/engine/pipeline/domain-check.js';
import { InferenceHost } from '../../src/engine/onnx/inference-host.js';
import type { InferenceBackend } from '../../src/engine/onnx/inference-protocol.js';
import { repoRoot, testModels } from '../helpers/paths.js';

const limits = { maxInputBytes: 20_000_000, maxInputPixels: 50_000_000 };
const toyfaces = readModelPackage(join(repoRoot, 'models', 'toyfaces-32'));
const analytic = readModelPackage(join(testModels, 'analytic'));

const noteFor = async (pkg: typeof toyfaces, bytes: Uint8Array) => checkDomain(pkg, await prepareInput(bytes, pkg.manifest, limits));
const solid = (size: number, rgb: [number, number, number]) => sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

describe('checkDomain', () => {
  it('the packages say what they edit', () => {
    expect(toyfaces.manifest.domain).toBe('synthetic cartoon faces, 32 px');
    expect(analytic.manifest.domain).toBe('per-pixel Gaussian test images, 16 px');
  });

  it('a shipped sample face is inside the default model\'s domain', async () => {
    expect(await noteFor(toyfaces, readFileSync(join(repoRoot, 'models', 'toyfaces-32', 'samples', 'face-4.png')))).toBeNull();
  });

  it('the default model\'s reader sees no face in a flat grey square, and the note says so in one line', async () => {
    const note = await noteFor(toyfaces, await solid(32, [128, 128, 128]));
    expect(note?.reason).toBe('no-face');
    expect(note?.text).toBe('Note: this model only edits synthetic cartoon faces, 32 px; its reader sees no face in this image, so expect a rough result. Real models: docs/models.md.');
  });

  it('a toy model flags a photo (short side at least 8x its resolution), not a small image', async () => {
    const big = await noteFor(analytic, await solid(128, [90, 120, 160]));
    expect(big?.reason).toBe('photo');
    expect(big?.text).toContain('only edits per-pixel Gaussian test images, 16 px; this looks like a photo');
    expect(big?.text).toContain('docs/models.md');
    expect(await noteFor(analytic, await solid(127, [90, 120, 160]))).toBeNull();
  });

  it('runs the reader where it is told (the engine passes its inference worker), leaving the input whole', async () => {
    const host = new InferenceHost({ intraOpThreads: 1 });
    const loaded: string[] = [];
    const backend: InferenceBackend = {
      mode: host.mode,
      intraOpThreads: host.intraOpThreads,
      load: (path, options) => {
        loaded.push(path);
        return host.load(path, options);
      },
      close: () => host.close(),
    };
    try {
      const input = await prepareInput(await solid(32, [128, 128, 128]), toyfaces.manifest, limits);
      const note = await checkDomain(toyfaces, input, backend);
      expect(note?.reason).toBe('no-face');
      expect(loaded).toEqual([join(toyfaces.dir, toyfaces.manifest.attributes!)]);
      expect(input.tensor.length).toBe(3 * 32 * 32); // not handed over to the worker
      expect(await checkDomain(toyfaces, input, backend)).toEqual(note);
      expect(loaded.length).toBe(1); // loaded once per backend
    } finally {
      await backend.close();
    }
  });
});
