/**
 * What the detector sees when it looks at one face again: a square window resampled from the photo through
 * an affine map, as NHWC values in [-1, 1], slightly blurred and, optionally, grey outside a square region.
 * Both extras make the keypoints depend on the face alone rather than on how the photo was made:
 *
 * - The blur: BlazeFace's keypoints shift with how sharp the face is. The same CelebA-HQ face seen from its
 *   1024 px original and from a 300 px copy came out turned 0.5° apart, which the crop's corners magnify
 *   to about a pixel. A Gaussian of one window pixel gives every window the same softness whatever the
 *   photo's resolution (the detector itself works at a much coarser scale, so nothing it needs is lost).
 * - The grey outside: with anything around the face in view (other background, a photo's edge, the
 *   smeared border where the window leaves the photo) the keypoints drift by up to a pixel at 256.
 */
import type { Affine } from './affine.js';
import type { RgbImage } from '../image/image-io.js';
import { warpAffine } from './warp.js';

export interface WindowOptions {
  /** Standard deviation of the Gaussian blur in window pixels (0 turns it off). */
  readonly blurSigma: number;
  /** Pixels whose centre maps (through `windowToRegion`) outside [min, max]² become mid-grey. */
  readonly keep?: { readonly windowToRegion: Affine; readonly min: number; readonly max: number };
}

export function detectorWindow(photo: RgbImage, windowToPhoto: Affine, size: number, opts: WindowOptions): Float32Array {
  // Clamped, not mirrored, borders: a mirrored copy of a face near the photo's edge would be a second face.
  // 2×2 samples per pixel are enough against aliasing once the window is blurred, and keep a window cheap.
  const window = warpAffine(photo, windowToPhoto, size, size, { border: 'clamp', maxSupersample: 2 });
  const input = new Float32Array(size * size * 3);
  for (let i = 0; i < input.length; i++) input[i] = window.data[i]! / 127.5 - 1;
  if (opts.blurSigma > 0) gaussianBlurNhwc(input, size, opts.blurSigma);
  if (opts.keep) {
    const { windowToRegion: m, min, max } = opts.keep;
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        // applyAffine inlined at the pixel centre: this runs for every pixel of every window.
        const x = m.a * (u + 0.5) + m.b * (v + 0.5) + m.c;
        const y = m.d * (u + 0.5) + m.e * (v + 0.5) + m.f;
        if (x >= min && x <= max && y >= min && y <= max) continue;
        const o = (v * size + u) * 3;
        input[o] = input[o + 1] = input[o + 2] = 0; // 0 is mid-grey in [-1, 1]
      }
    }
  }
  return input;
}

/** Separable Gaussian blur of a square NHWC RGB image in place; edges are clamped. */
export function gaussianBlurNhwc(img: Float32Array, size: number, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const taps = 2 * r + 1;
  const kernel = new Float64Array(taps);
  let total = 0;
  for (let i = 0; i < taps; i++) total += kernel[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < taps; i++) kernel[i]! /= total;
  // Source index of each tap for each position along a line, clamped at the ends once here.
  const from = new Int32Array(size * taps);
  for (let x = 0; x < size; x++) for (let t = 0; t < taps; t++) from[x * taps + t] = Math.min(size - 1, Math.max(0, x + t - r));
  const tmp = new Float32Array(img.length);
  const pass = (src: Float32Array, dst: Float32Array, step: number, lineStep: number) => {
    for (let line = 0; line < size; line++) {
      const base = line * lineStep;
      for (let x = 0; x < size; x++) {
        let a = 0;
        let b = 0;
        let c = 0;
        for (let t = 0; t < taps; t++) {
          const w = kernel[t]!;
          const i = base + from[x * taps + t]! * step;
          a += w * src[i]!;
          b += w * src[i + 1]!;
          c += w * src[i + 2]!;
        }
        const o = base + x * step;
        dst[o] = a;
        dst[o + 1] = b;
        dst[o + 2] = c;
      }
    }
  };
  pass(img, tmp, 3, size * 3); // along rows
  pass(tmp, img, size * 3, 3); // along columns
}

/** Copies a square NHWC image mirrored left-right. */
export function mirrorX(src: Float32Array, size: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const i = (y * size + size - 1 - x) * 3;
      out[o] = src[i]!;
      out[o + 1] = src[i + 1]!;
      out[o + 2] = src[i + 2]!;
    }
  }
  return out;
}
