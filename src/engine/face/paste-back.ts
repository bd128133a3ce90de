/**
 * Puts an edited aligned crop back into the full-resolution photo. Each photo pixel near the face is mapped
 * into the crop with the inverse of the alignment; its weight falls smoothly from 1 deep inside the crop to
 * 0 at the crop's border, so the seam between edited and untouched pixels is invisible. A pixel whose
 * weight is 0 is copied, never recomputed: everything outside the mask stays bit-identical to the input.
 */
import { applyAffine, linearScale, type Affine } from './affine.js';
import { sampleBilinear, supersampleFor } from './warp.js';
import type { RgbImage } from '../image/image-io.js';

export interface PasteOptions {
  /** Width of the soft edge, in crop pixels (default: 1/8 of the crop). */
  readonly feather?: number;
  /**
   * Crop pixels left out at the border before the soft edge starts (default 2): bilinear samples there
   * would mix in edge-clamped values.
   */
  readonly inset?: number;
}

export interface PasteMask {
  readonly size: number;
  readonly feather: number;
  readonly inset: number;
}

export function pasteMask(size: number, opts: PasteOptions = {}): PasteMask {
  return { size, feather: opts.feather ?? size / 8, inset: opts.inset ?? 2 };
}

/**
 * Weight of the edited crop at crop coordinates (u, v): 0 outside [inset, size − inset]², then a smoothstep
 * over `feather` pixels, 1 inside. Smoothstep (not a linear ramp) has no kink, so no visible line either.
 */
export function maskWeight(mask: PasteMask, u: number, v: number): number {
  const d = Math.min(u, v, mask.size - u, mask.size - v) - mask.inset;
  if (d <= 0) return 0;
  if (d >= mask.feather) return 1;
  const t = d / mask.feather;
  return t * t * (3 - 2 * t);
}

/**
 * Returns a copy of `photo` with `crop` (size×size, aligned by cropToPhoto) blended in. `photo` itself is
 * not modified.
 */
export function pasteBack(photo: RgbImage, crop: RgbImage, cropToPhoto: Affine, photoToCrop: Affine, opts: PasteOptions = {}): RgbImage {
  if (crop.width !== crop.height) throw new RangeError(`the crop must be square, got ${crop.width}×${crop.height}`);
  const out = new Uint8Array(photo.data);
  const mask = pasteMask(crop.width, opts);
  const R = crop.width;
  // Only pixels whose centres fall inside the crop's quad can have a weight: visit its bounding box.
  const corners = [applyAffine(cropToPhoto, { x: 0, y: 0 }), applyAffine(cropToPhoto, { x: R, y: 0 }), applyAffine(cropToPhoto, { x: 0, y: R }), applyAffine(cropToPhoto, { x: R, y: R })];
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))));
  const x1 = Math.min(photo.width, Math.ceil(Math.max(...corners.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
  const y1 = Math.min(photo.height, Math.ceil(Math.max(...corners.map((p) => p.y))));
  // A face smaller than the crop in the photo is a shrink from crop to photo: average the footprint.
  const k = supersampleFor(linearScale(photoToCrop));
  const acc = new Float64Array(3);
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const q = applyAffine(photoToCrop, { x: px + 0.5, y: py + 0.5 });
      const w = maskWeight(mask, q.x, q.y);
      if (w === 0) continue;
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < k; i++) {
          const s = applyAffine(photoToCrop, { x: px + (i + 0.5) / k, y: py + (j + 0.5) / k });
          sampleBilinear(crop, s.x, s.y, 'clamp', acc, 1 / (k * k));
        }
      }
      const o = (py * photo.width + px) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(out[o + c]! + w * (acc[c]! - out[o + c]!));
    }
  }
  return { data: out, width: photo.width, height: photo.height };
}
