/**
 * editImage with a face model ("preprocess": "align-face"): faces found in a photo, edited in one batch,
 * pasted back at full resolution; the crop-only output; picking one face; no face → NO_FACE. The model is
 * the analytic test model (16 px) with its manifest switched to align-face: the face code does not care
 * what the UNet is, only that every face goes through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoadedModel } from '../../src/engine/loaded-model.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { editImage, prepareInput } from '../../src/engine/pipeline/edit-image.js';
import { EngineError } from '../../src/engine/errors.js';
import { applyAffine } from '../../src/engine/face/affine.js';
import { maskWeight, pasteMask } from '../../src/engine/face/paste-back.js';
import { sharedFixturePresent, testModels } from '../helpers/paths.js';

const PHOTOS = join(import.meta.dirname, '../../../shared/fixtures/asyrp-official/photos/celeba');
const havePhotos = sharedFixturePresent(PHOTOS, 'face-pipeline photo tests');
const limits = { maxInputBytes: 20_000_000, maxInputPixels: 50_000_000 };

let model: LoadedModel;
beforeAll(async () => {
  const pkg = readModelPackage(join(testModels, 'analytic'));
  model = await LoadedModel.open({ ...pkg, manifest: { ...pkg.manifest, preprocess: 'align-face' } }, { provider: 'cpu' });
});
afterAll(async () => model?.close());

async function gradientPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = (i % width) % 256;
    data[i * 3 + 1] = 120;
    data[i * 3 + 2] = Math.floor(i / width) % 256;
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function refusal(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('no face', () => {
  it('a photo without a face is refused with NO_FACE and a plain message', async () => {
    const e = await refusal(editImage(model, await gradientPng(320, 240), 'steps:5', { limits }));
    expect(e.code).toBe('NO_FACE');
    expect(e.message).toMatch(/^no face found in the image/);
    const p = await refusal(prepareInput(await gradientPng(64, 64), model.manifest, limits));
    expect(p.code).toBe('NO_FACE');
  });
});

describe.skipIf(!havePhotos)('faces in a photo', () => {
  const files = havePhotos ? readdirSync(PHOTOS).filter((f) => /\.jpe?g$/i.test(f)).sort() : [];
  let twoFaces: Buffer;
  beforeAll(async () => {
    const a = await sharp(join(PHOTOS, files[0]!)).resize(260, 260).toBuffer();
    const b = await sharp(join(PHOTOS, files[1]!)).resize(400, 400).toBuffer();
    twoFaces = await sharp({ create: { width: 1000, height: 600, channels: 3, background: { r: 70, g: 90, b: 120 } } })
      .composite([{ input: a, left: 40, top: 200 }, { input: b, left: 560, top: 100 }])
      .png()
      .toBuffer();
  });

  it('edits every face in one batch and pastes each back; nothing outside the masks changes', async () => {
    const calls = model.unet.calls;
    const r = await editImage(model, twoFaces, 'shift steps:8', { limits });
    expect(r.faces).toHaveLength(2);
    // One batch: 7 inversion + 8 generation calls carry both faces (one by one would take 30).
    expect(model.unet.calls - calls).toBe(15);
    expect(r.faces!.map((f) => f.index)).toEqual([0, 1]);
    // Largest first: the 400 px face on the right.
    expect(r.faces![0]!.box.x).toBeGreaterThan(500);
    expect([r.before.width, r.before.height, r.after.width, r.after.height]).toEqual([1000, 600, 1000, 600]);
    for (const f of r.faces!) expect([f.before.width, f.after.width]).toEqual([16, 16]);
    const mask = pasteMask(16);
    let changed = 0;
    for (let y = 0; y < 600; y++) {
      for (let x = 0; x < 1000; x++) {
        const o = (y * 1000 + x) * 3;
        const same = r.after.data[o] === r.before.data[o] && r.after.data[o + 1] === r.before.data[o + 1] && r.after.data[o + 2] === r.before.data[o + 2];
        const w = Math.max(...r.faces!.map((f) => {
          const q = applyAffine(f.alignment.photoToCrop, { x: x + 0.5, y: y + 0.5 });
          return maskWeight(mask, q.x, q.y);
        }));
        if (w === 0 && !same) throw new Error(`pixel (${x}, ${y}) outside the masks changed`);
        if (!same) changed++;
      }
    }
    // Both faces were edited (the "shift" direction moves colours).
    expect(changed).toBeGreaterThan(50_000);
    const before = Buffer.from(r.faces![0]!.before.data);
    expect(Buffer.from(r.faces![0]!.after.data).equals(before)).toBe(false);
  });

  it('faceIndex edits only that face; faceOutput "crop" returns its aligned crop', async () => {
    const r = await editImage(model, twoFaces, 'shift steps:8', { limits, faceIndex: 1, faceOutput: 'crop', size: 32 });
    expect(r.faces).toHaveLength(1);
    expect(r.faces![0]!.index).toBe(1);
    expect(r.faces![0]!.box.x).toBeLessThan(400);
    expect([r.before.width, r.after.width, r.after.height]).toEqual([32, 32, 32]);
    const e = await refusal(editImage(model, twoFaces, 'steps:5', { limits, faceIndex: 2 }));
    expect(e.code).toBe('NO_FACE');
    expect(e.message).toContain('the image has 2 faces');
  });

  it('prepareInput gives the crop as the "before" and keeps the photo for pasting back', async () => {
    const p = await prepareInput(twoFaces, model.manifest, limits, { maxFaces: 1 });
    expect(p.faces).toHaveLength(1);
    expect([p.rgb.width, p.rgb.height]).toEqual([16, 16]);
    expect(p.tensor).toHaveLength(3 * 16 * 16);
    expect(p.photo && [p.photo.width, p.photo.height]).toEqual([1000, 600]);
    expect(p.original).toEqual({ width: 1000, height: 600 });
  });
});
