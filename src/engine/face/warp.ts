/**
 * Resampling an RGB image through an affine map, in plain TypeScript so the result is exact and the same on
 * every host (sharp's affine has its own pixel-centre and border conventions). Bilinear interpolation;
 * when the map shrinks the image (a large face → a 256 crop) each output pixel averages k×k bilinear
 * samples spread over its footprint, so fine detail such as hair does not alias into moiré.
 */
import { linearScale, type Affine } from './affine.js';
import type { RgbImage } from '../image/image-io.js';

/** Beyond this many samples per axis the extra cost buys nothing visible. */
const MAX_SUPERSAMPLE = 8;

export type BorderMode = 'reflect' | 'clamp';

/** Maps an integer index outside 0..n−1 back inside: mirrored (…1 0 | 0 1 … n−1 | n−1 n−2…) or clamped. */
function borderIndex(i: number, n: number, mode: BorderMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'clamp' || n === 1) return i < 0 ? 0 : n - 1;
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * Bilinear sample at continuous coordinates (x, y) (pixel centres at i + 0.5), added into acc[0..2]
 * with the given weight.
 */
export function sampleBilinear(img: RgbImage, x: number, y: number, mode: BorderMode, acc: Float64Array, weight = 1): void {
  const fx = x - 0.5;
  const fy = y - 0.5;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const tx = fx - x0;
  const ty = fy - y0;
  const { width: w, height: h, data } = img;
  const xa = borderIndex(x0, w, mode);
  const xb = borderIndex(x0 + 1, w, mode);
  const ya = borderIndex(y0, h, mode) * w;
  const yb = borderIndex(y0 + 1, h, mode) * w;
  const w00 = (1 - tx) * (1 - ty) * weight;
  const w10 = tx * (1 - ty) * weight;
  const w01 = (1 - tx) * ty * weight;
  const w11 = tx * ty * weight;
  const i00 = (ya + xa) * 3;
  const i10 = (ya + xb) * 3;
  const i01 = (yb + xa) * 3;
  const i11 = (yb + xb) * 3;
  for (let c = 0; c < 3; c++) {
    acc[c]! += w00 * data[i00 + c]! + w10 * data[i10 + c]! + w01 * data[i01 + c]! + w11 * data[i11 + c]!;
  }
}

/** Samples per axis for a map that covers `scale` source pixels per destination pixel. */
export function supersampleFor(scale: number): number {
  return Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(scale - 1e-9)));
}

export interface WarpOptions {
  /** How pixels outside the source are made up: mirrored (default; looks like more background) or edge-clamped. */
  readonly border?: BorderMode;
  /** Cap on samples per axis when shrinking (default 8); the detector's windows need less than a crop. */
  readonly maxSupersample?: number;
}

/**
 * Output pixel (u, v) takes the source colour at dstToSrc(u + 0.5, v + 0.5), averaged over its footprint
 * when the map shrinks. Values are rounded to the nearest integer.
 */
export function warpAffine(src: RgbImage, dstToSrc: Affine, width: number, height: number, opts: WarpOptions = {}): RgbImage {
  const mode = opts.border ?? 'reflect';
  const k = Math.min(opts.maxSupersample ?? MAX_SUPERSAMPLE, supersampleFor(linearScale(dstToSrc)));
  const weight = 1 / (k * k);
  const out = new Uint8Array(width * height * 3);
  const acc = new Float64Array(3);
  const { a, b, c, d, e, f } = dstToSrc;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        const y = v + (j + 0.5) / k;
        for (let i = 0; i < k; i++) {
          const x = u + (i + 0.5) / k;
          // applyAffine inlined: this loop runs millions of times per crop.
          sampleBilinear(src, a * x + b * y + c, d * x + e * y + f, mode, acc, weight);
        }
      }
      const o = (v * width + u) * 3;
      out[o] = Math.round(acc[0]!);
      out[o + 1] = Math.round(acc[1]!);
      out[o + 2] = Math.round(acc[2]!);
    }
  }
  return { data: out, width, height };
}
