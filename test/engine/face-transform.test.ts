/** The alignment rule, affine maths, warp and paste-back on synthetic points and images (no detector). */
import { describe, expect, it } from 'vitest';
import { applyAffine, composeAffine, invertAffine, similarity, type Affine, type Point } from '../../src/engine/face/affine.js';
import { alignFace } from '../../src/engine/face/face-alignment.js';
import { warpAffine } from '../../src/engine/face/warp.js';
import { maskWeight, pasteBack, pasteMask } from '../../src/engine/face/paste-back.js';
import type { RgbImage } from '../../src/engine/image/image-io.js';

const close = (p: Point, q: Point, tol = 1e-9) => {
  expect(Math.abs(p.x - q.x)).toBeLessThanOrEqual(tol);
  expect(Math.abs(p.y - q.y)).toBeLessThanOrEqual(tol);
};

/** R = 2x, G = y + 10, B = 150 − x + y: linear in (x, y), so bilinear interpolation reproduces it exactly. */
function linearImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      data[o] = 2 * x;
      data[o + 1] = y + 10;
      data[o + 2] = 150 - x + y;
    }
  }
  return { data, width: w, height: h };
}
/** The continuous colour of linearImage at a continuous point (pixel centres at i + 0.5). */
const linearAt = (p: Point) => [2 * (p.x - 0.5), p.y - 0.5 + 10, 150 - (p.x - 0.5) + (p.y - 0.5)];

describe('FFHQ alignment rule', () => {
  it('an upright face: the crop is axis-aligned, sized by the larger of 2·eye distance and 1.8·eye-mouth distance', () => {
    // Eyes 40 apart, mouth 40 below their mid-point: x = (40,0) − rot90((0,40)) = (80,0); |x| = max(80, 72).
    const a = alignFace({ eyeLeft: { x: 100, y: 100 }, eyeRight: { x: 140, y: 100 }, mouth: { x: 120, y: 140 } }, 256);
    close(a.center, { x: 120, y: 104 });
    close(a.xAxis, { x: 80, y: 0 });
    close(a.yAxis, { x: 0, y: 80 });
    close(a.quad[0], { x: 40, y: 24 });
    close(a.quad[2], { x: 200, y: 184 });
    // Crop centre ↔ face centre; the eyes land where FFHQ puts them.
    close(applyAffine(a.cropToPhoto, { x: 128, y: 128 }), a.center);
    close(applyAffine(a.photoToCrop, { x: 100, y: 100 }), { x: 128 - 20 * 1.6, y: 128 - 4 * 1.6 });
  });

  it('a long face is sized by the mouth distance instead', () => {
    const a = alignFace({ eyeLeft: { x: 0, y: 0 }, eyeRight: { x: 20, y: 0 }, mouth: { x: 10, y: 50 } }, 100);
    // x = (20,0) + (50,0) → direction (1,0); half side = max(40, 90) = 90.
    close(a.xAxis, { x: 90, y: 0 });
  });

  it('moves with the face: aligning transformed points = transforming the alignment', () => {
    const lm = { eyeLeft: { x: 310, y: 402 }, eyeRight: { x: 388, y: 396 }, mouth: { x: 352, y: 480 } };
    const a0 = alignFace(lm, 256);
    for (const [s, deg, tx, ty] of [
      [0.5, 0, 10, 20],
      [1.7, 33, -50, 400],
      [2.5, -120, 900, -30],
    ] as const) {
      const T = similarity(s, deg, tx, ty);
      const moved = { eyeLeft: applyAffine(T, lm.eyeLeft), eyeRight: applyAffine(T, lm.eyeRight), mouth: applyAffine(T, lm.mouth) };
      const a1 = alignFace(moved, 256);
      a0.quad.forEach((q, i) => close(a1.quad[i]!, applyAffine(T, q), 1e-9 * s * 1000));
      // The crop is the same: the composite's crop map is T after the original's.
      const expected = composeAffine(a0.cropToPhoto, T);
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f'] as const) expect(a1.cropToPhoto[k]).toBeCloseTo(expected[k], 6);
    }
  });

  it('rejects coincident points and bad sizes', () => {
    const p = { x: 5, y: 5 };
    expect(() => alignFace({ eyeLeft: p, eyeRight: p, mouth: p }, 256)).toThrow(/degenerate/);
    expect(() => alignFace({ eyeLeft: p, eyeRight: { x: 9, y: 5 }, mouth: { x: 7, y: 9 } }, 0)).toThrow(RangeError);
  });
});

describe('affine maths', () => {
  it('inverse and composition round-trip', () => {
    const m: Affine = { a: 1.3, b: -0.4, c: 12, d: 0.25, e: 0.9, f: -7 };
    const inv = invertAffine(m);
    for (const p of [{ x: 0, y: 0 }, { x: 100, y: -30 }, { x: 3.5, y: 7.25 }]) close(applyAffine(inv, applyAffine(m, p)), p, 1e-9);
    const id = composeAffine(m, inv);
    for (const [k, v] of Object.entries({ a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 })) expect(id[k as keyof Affine]).toBeCloseTo(v, 12);
    expect(() => invertAffine({ a: 1, b: 2, c: 0, d: 2, e: 4, f: 0 })).toThrow(/singular/);
  });

  it('similarity turns counter-clockwise on screen (y down)', () => {
    close(applyAffine(similarity(1, 90, 0, 0), { x: 1, y: 0 }), { x: 0, y: -1 }, 1e-12);
  });
});

describe('warpAffine', () => {
  const src = linearImage(120, 100);

  it('an integer shift copies pixels exactly', () => {
    const out = warpAffine(src, { a: 1, b: 0, c: 10, d: 0, e: 1, f: 7 }, 50, 40);
    for (let v = 0; v < 40; v++) {
      for (let u = 0; u < 50; u++) {
        for (let c = 0; c < 3; c++) expect(out.data[(v * 50 + u) * 3 + c]).toBe(src.data[((v + 7) * 120 + u + 10) * 3 + c]);
      }
    }
  });

  it('rotated, enlarged and shrunk warps sample the right place (within rounding) on a linear image', () => {
    // dst → src maps: 0.6× (enlarging, one sample) and 2.6× (shrinking, 3×3 samples averaged), both turned.
    for (const m of [composeAffine(similarity(0.6, 25, 0, 0), { a: 1, b: 0, c: 40, d: 0, e: 1, f: 30 }), composeAffine(similarity(2.6, -40, 0, 0), { a: 1, b: 0, c: 35, d: 0, e: 1, f: 45 })]) {
      const out = warpAffine(src, m, 20, 20);
      let checked = 0;
      for (let v = 0; v < 20; v++) {
        for (let u = 0; u < 20; u++) {
          const p = applyAffine(m, { x: u + 0.5, y: v + 0.5 });
          // Stay a footprint away from the border, where mirrored pixels break linearity.
          if (p.x < 6 || p.y < 6 || p.x > 114 || p.y > 94) continue;
          const want = linearAt(p);
          for (let c = 0; c < 3; c++) expect(Math.abs(out.data[(v * 20 + u) * 3 + c]! - want[c]!)).toBeLessThanOrEqual(0.5 + 1e-6);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(100);
    }
  });

  it('mirrors beyond the border by default and clamps when asked', () => {
    const row: RgbImage = { data: Uint8Array.from([0, 0, 0, 100, 100, 100, 200, 200, 200]), width: 3, height: 1 };
    const shift = { a: 1, b: 0, c: -2, d: 0, e: 1, f: 0 };
    expect(Array.from(warpAffine(row, shift, 3, 1).data.filter((_, i) => i % 3 === 0))).toEqual([100, 0, 0]);
    expect(Array.from(warpAffine(row, shift, 3, 1, { border: 'clamp' }).data.filter((_, i) => i % 3 === 0))).toEqual([0, 0, 0]);
  });
});

describe('pasteBack', () => {
  const photo = linearImage(120, 100);
  const a = alignFace({ eyeLeft: { x: 50, y: 45 }, eyeRight: { x: 68, y: 42 }, mouth: { x: 60, y: 62 } }, 64);

  it('mask: 0 at and outside the border inset, 1 inside the feather, smooth between', () => {
    const m = pasteMask(64, { feather: 8, inset: 2 });
    expect(maskWeight(m, 1, 30)).toBe(0);
    expect(maskWeight(m, 30, 63)).toBe(0);
    expect(maskWeight(m, -5, 30)).toBe(0);
    expect(maskWeight(m, 10, 30)).toBe(1);
    expect(maskWeight(m, 6, 30)).toBeCloseTo(0.5, 12);
    expect(maskWeight(m, 4, 30)).toBeLessThan(maskWeight(m, 5, 30));
  });

  it('pixels outside the mask stay bit-identical; inside, the crop replaces the photo', () => {
    const red: RgbImage = { data: new Uint8Array(64 * 64 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)), width: 64, height: 64 };
    const out = pasteBack(photo, red, a.cropToPhoto, a.photoToCrop);
    const mask = pasteMask(64);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 120; x++) {
        const q = applyAffine(a.photoToCrop, { x: x + 0.5, y: y + 0.5 });
        const w = maskWeight(mask, q.x, q.y);
        const o = (y * 120 + x) * 3;
        const px = [out.data[o], out.data[o + 1], out.data[o + 2]];
        if (w === 0) {
          outside++;
          expect(px).toEqual([photo.data[o], photo.data[o + 1], photo.data[o + 2]]);
        } else if (w === 1) {
          inside++;
          expect(px).toEqual([255, 0, 0]);
        } else {
          // Between: a blend, never beyond either end.
          expect(px[0]).toBeGreaterThanOrEqual(Math.min(photo.data[o]!, 255));
        }
      }
    }
    expect(inside).toBeGreaterThan(500);
    expect(outside).toBeGreaterThan(5000);
    // The input photo is not modified.
    expect(photo.data[0]).toBe(0);
  });

  it('align then paste back unedited gives the photo back (to interpolation error)', () => {
    const crop = warpAffine(photo, a.cropToPhoto, 64, 64);
    const out = pasteBack(photo, crop, a.cropToPhoto, a.photoToCrop);
    let worst = 0;
    for (let i = 0; i < out.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i]! - photo.data[i]!));
    // Linear content survives two bilinear resamplings up to rounding, twice.
    expect(worst).toBeLessThanOrEqual(2);
  });
});
