/**
 * Face detection and alignment on real CelebA-HQ photos (already aligned 1024² crops) placed at known
 * scales, rotations and offsets in larger canvases. The photos are test data read from the shared
 * fixtures folder, never copied into the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { sharedFixturePresent } from '../helpers/paths.js';
import { join } from 'node:path';
import { applyAffine, composeAffine, distance, type Affine, type Point } from '../../src/engine/face/affine.js';
import { detectFaces, type DetectedFace } from '../../src/engine/face/detect-faces.js';
import { alignFace, type FaceAlignment } from '../../src/engine/face/face-alignment.js';
import { warpAffine } from '../../src/engine/face/warp.js';
import { maskWeight, pasteBack, pasteMask } from '../../src/engine/face/paste-back.js';
import { FaceDetectorSession } from '../../src/engine/onnx/face-detector-session.js';
import type { RgbImage } from '../../src/engine/image/image-io.js';

const PHOTOS = join(import.meta.dirname, '../../../shared/fixtures/asyrp-official/photos/celeba');
const havePhotos = sharedFixturePresent(PHOTOS, 'face-detect photo tests');
const R = 256;

async function raw(s: ReturnType<typeof sharp>): Promise<RgbImage> {
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** A soft two-colour gradient: a plain but not flat background. */
async function gradientCanvas(width: number, height: number): Promise<RgbImage> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = 60 + (120 * x) / width;
      data[o + 1] = 110;
      data[o + 2] = 170 - (100 * y) / height;
    }
  }
  return { data, width, height };
}

interface Placement {
  /** Face edge length in the canvas, clockwise turn in degrees, top-left of the turned photo's bounding box. */
  readonly size: number;
  readonly degrees: number;
  readonly left: number;
  readonly top: number;
}

/**
 * Places the photo in a canvas with sharp (resize, rotate about the centre, composite) and returns the
 * known photo → canvas map. sharp turns clockwise for positive angles (y down) and grows the image to the
 * rotated bounding box; the photo's centre lands on that box's centre.
 */
async function composite(photoPath: string, canvas: RgbImage, placements: readonly Placement[]): Promise<{ image: RgbImage; maps: Affine[] }> {
  const layers: { input: Buffer; left: number; top: number }[] = [];
  const maps: Affine[] = [];
  for (const p of placements) {
    const meta = await sharp(photoPath).metadata();
    const turned = await sharp(photoPath).resize(p.size, p.size, { kernel: 'lanczos3' }).rotate(p.degrees, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer({ resolveWithObject: true });
    const s = p.size / meta.width!;
    const r = (p.degrees * Math.PI) / 180;
    const [cos, sin] = [Math.cos(r), Math.sin(r)];
    const half = p.size / 2;
    const cx = p.left + turned.info.width / 2;
    const cy = p.top + turned.info.height / 2;
    // q = rot(s·p − half) + centre
    maps.push({ a: s * cos, b: -s * sin, c: cx - half * cos + half * sin, d: s * sin, e: s * cos, f: cy - half * sin - half * cos });
    layers.push({ input: turned.data, left: p.left, top: p.top });
  }
  const image = await raw(sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 3 } }).composite(layers));
  return { image, maps };
}

/** Mean |a − b| / 255 over the crop pixels whose source lies inside the photo (the rest is made-up border). */
function cropDiff(a: RgbImage, b: RgbImage, ref: FaceAlignment, photo: { width: number; height: number }): number {
  let sum = 0;
  let n = 0;
  for (let v = 0; v < R; v++) {
    for (let u = 0; u < R; u++) {
      const p = applyAffine(ref.cropToPhoto, { x: u + 0.5, y: v + 0.5 });
      if (p.x < 4 || p.y < 4 || p.x > photo.width - 4 || p.y > photo.height - 4) continue;
      const o = (v * R + u) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[o + c]! - b.data[o + c]!);
      n += 3;
    }
  }
  expect(n).toBeGreaterThan(R * R * 3 * 0.5);
  return sum / n / 255;
}

/**
 * Alignment error in crop pixels at 256: how far the found crop's content sits from where the known
 * transform puts it. `quad`: the worst crop corner; `mean`: the mean displacement over all crop pixels
 * (the displacement is affine in the crop position, so a 16×16 grid of samples measures it closely);
 * `points`: the worst of the eyes and the mouth.
 */
function alignmentError(found: FaceAlignment, foundFace: DetectedFace, ref: FaceAlignment, refFace: DetectedFace, map: Affine): { quad: number; mean: number; points: number } {
  const expected = composeAffine(ref.cropToPhoto, map);
  // Displacement measured in the found crop's pixels: photo distance × crop pixels per photo pixel.
  const perPx = R / (2 * Math.hypot(found.xAxis.x, found.xAxis.y));
  const at = (u: number, v: number) => distance(applyAffine(found.cropToPhoto, { x: u, y: v }), applyAffine(expected, { x: u, y: v })) * perPx;
  const quad = Math.max(at(0, 0), at(R, 0), at(0, R), at(R, R));
  let sum = 0;
  for (let j = 0; j < 16; j++) for (let i = 0; i < 16; i++) sum += at(((i + 0.5) * R) / 16, ((j + 0.5) * R) / 16);
  const pts = (f: DetectedFace): Point[] => [f.eyeLeft, f.eyeRight, f.mouth];
  const points = Math.max(...pts(refFace).map((q, i) => distance(pts(foundFace)[i]!, applyAffine(map, q)))) * perPx;
  return { quad, mean: sum / 256, points };
}

describe.skipIf(!havePhotos)('faces in real photos placed in larger canvases', () => {
  let detector: FaceDetectorSession;
  const files = havePhotos ? readdirSync(PHOTOS).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort() : [];
  const placements: Placement[] = [
    { size: 300, degrees: 0, left: 700, top: 150 },
    { size: 520, degrees: 15, left: 80, top: 300 },
    { size: 420, degrees: -30, left: 900, top: 420 },
    { size: 900, degrees: 8, left: 300, top: 60 },
  ];
  const report: string[] = [];
  // A face was searched for and aligned in each of these; the summary is printed after the tests.

  beforeAll(async () => {
    detector = await FaceDetectorSession.load();
  });
  afterAll(async () => {
    await detector?.release();
    console.log(['face alignment (crop px at 256; diff = mean |Δ|/255 vs aligning the untransformed photo; vsOriginal = vs the CelebA-HQ image itself)', ...report].join('\n'));
  });

  it('finds the fixture photos', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(`${file}: found at every scale and rotation, eyes and mouth within 2 px at 256, crop within 2 %`, async () => {
      const path = join(PHOTOS, file);
      const photo = await raw(sharp(path));
      const [refFace, ...others] = await detectFaces(detector, photo);
      expect(refFace, 'the untransformed photo has a face').toBeDefined();
      expect(others).toHaveLength(0);
      const ref = alignFace(refFace!, R);
      const refCrop = warpAffine(photo, ref.cropToPhoto, R, R);
      const original = await raw(sharp(path).resize(R, R, { kernel: 'lanczos3' }));
      report.push(`${file} untransformed: vsOriginal ${cropDiff(refCrop, original, ref, photo).toFixed(4)}`);
      const canvas = await gradientCanvas(1600, 1200);
      for (const pl of placements) {
        const { image, maps } = await composite(path, canvas, [pl]);
        const faces = await detectFaces(detector, image);
        expect(faces, `${file} at ${pl.size}px ${pl.degrees}°`).toHaveLength(1);
        const found = alignFace(faces[0]!, R);
        const err = alignmentError(found, faces[0]!, ref, refFace!, maps[0]!);
        const crop = warpAffine(image, found.cropToPhoto, R, R);
        const diff = cropDiff(crop, refCrop, ref, photo);
        // The same crop taken with the exact known alignment: what resampling alone costs.
        const floor = cropDiff(warpAffine(image, composeAffine(ref.cropToPhoto, maps[0]!), R, R), refCrop, ref, photo);
        report.push(`${file} ${pl.size}px ${pl.degrees}°: mean ${err.mean.toFixed(2)} px, worst corner ${err.quad.toFixed(2)} px, points ${err.points.toFixed(2)} px, diff ${diff.toFixed(4)} (exact transform ${floor.toFixed(4)}), vsOriginal ${cropDiff(crop, original, ref, photo).toFixed(4)}`);
        // ≤ 2 px at 256: the eyes and mouth, and the crop's content on average. The corners are reported:
        // they magnify a keypoint error about fourfold (the crop is four eye distances wide).
        expect(err.points, `${file} ${pl.size}px ${pl.degrees}° keypoint error`).toBeLessThanOrEqual(2);
        expect(err.mean, `${file} ${pl.size}px ${pl.degrees}° mean crop displacement`).toBeLessThanOrEqual(2);
        expect(err.quad, `${file} ${pl.size}px ${pl.degrees}° worst corner`).toBeLessThanOrEqual(3);
        // Pixels: mean |Δ|/255 against aligning the untransformed photo, within 2 % (issue #9's bound). On
        // texture-rich photos (hair over the whole crop) a 1 px shift alone costs 2-3 %, so this holds only
        // while the content stays within about half a pixel; the worst placement measured 1.3 %. The printed
        // summary shows each figure and how much of it resampling alone costs (the crop through the exact
        // known transform, 0.2-1 %).
        expect(diff, `${file} ${pl.size}px ${pl.degrees}° crop difference`).toBeLessThanOrEqual(0.02);
      }
    });
  }

  it('several faces: each is found, largest first, and pasting edited crops changes nothing outside the masks', async () => {
    const path = join(PHOTOS, files[0]!);
    const placements2: Placement[] = [
      { size: 300, degrees: 10, left: 100, top: 200 },
      { size: 500, degrees: -5, left: 900, top: 300 },
    ];
    const { image, maps } = await composite(path, await gradientCanvas(1600, 1000), placements2);
    const faces = await detectFaces(detector, image);
    expect(faces).toHaveLength(2);
    // Largest first: the 500 px face is on the right.
    expect(faces[0]!.box.x).toBeGreaterThan(800);
    expect(faces[1]!.box.x).toBeLessThan(500);
    expect(faces[0]!.box.width).toBeGreaterThan(faces[1]!.box.width);
    const centre = (m: Affine) => applyAffine(m, { x: 512, y: 512 });
    expect(distance(faces[0]!.mouth, centre(maps[1]!))).toBeLessThan(250);
    expect(distance(faces[1]!.mouth, centre(maps[0]!))).toBeLessThan(150);

    // "Edit" each crop by inverting it, paste both back, and check every pixel against the masks.
    let out = image;
    const aligned = faces.map((f) => alignFace(f, R));
    for (const a of aligned) {
      const crop = warpAffine(image, a.cropToPhoto, R, R);
      const edited: RgbImage = { ...crop, data: crop.data.map((v) => 255 - v) };
      out = pasteBack(out, edited, a.cropToPhoto, a.photoToCrop);
    }
    const mask = pasteMask(R);
    let unchanged = 0;
    let changed = 0;
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const w = Math.max(...aligned.map((a) => {
          const q = applyAffine(a.photoToCrop, { x: x + 0.5, y: y + 0.5 });
          return maskWeight(mask, q.x, q.y);
        }));
        const o = (y * image.width + x) * 3;
        const same = out.data[o] === image.data[o] && out.data[o + 1] === image.data[o + 1] && out.data[o + 2] === image.data[o + 2];
        if (w === 0) {
          if (!same) throw new Error(`pixel (${x}, ${y}) outside every mask changed`);
          unchanged++;
        } else if (w === 1 && !same) {
          changed++;
        }
      }
    }
    expect(unchanged).toBeGreaterThan(image.width * image.height * 0.5);
    expect(changed).toBeGreaterThan(100_000);
  });

  it('an image without a face gives no detections', async () => {
    expect(await detectFaces(detector, await gradientCanvas(640, 480))).toEqual([]);
  });
});
