/**
 * The twin judge (docs/quality.md, "The twin judge"): an edit is compared with the renderer's own drawing of
 * the same face with the target attribute on (its twin), by pixels, with no network taking part, so no
 * direction can be optimized to fool it.
 *
 *   region  R: the pixels the twin's drawing changes (tools/asyrp_tools/twins.py, from the renderer's geometry);
 *   border  B: pixels within TWIN_BORDER of R (a soft edge the renderer's box filter and the model blur);
 *   outside O: every other pixel.
 *
 *   progress  = 1 − ‖e − w‖_R / ‖x − w‖_R         (x input, e edit, w twin; L2 over R's pixels and channels)
 *   success   ⇔ progress ≥ TWIN_SUCCESS_PROGRESS  (the edit went at least half-way from the input to the twin)
 *   outside   = mean over O of max_c |e − x|, in 0..255 units
 *   preserved ⇔ outside ≤ TWIN_PRESERVE_TOLERANCE
 */
import type { EvalTarget } from './evaluate.js';

/** Success: the edit closed at least this share of the input's distance to its twin inside the region. */
export const TWIN_SUCCESS_PROGRESS = 0.5;
/**
 * Preservation: mean change outside the region (and its border), 0..255 units. Three times the largest change a
 * plain reconstruction makes (2.7), above an invisible 3 % change of light (5.5), below the median of every change
 * that makes another face (face shape, hair, skin, background, a 1-px shift: 7-28); docs/quality.md, "The twin judge".
 */
export const TWIN_PRESERVE_TOLERANCE = 8;
/** Pixels this close to the region (Chebyshev distance) are neither judged as region nor as outside. */
export const TWIN_BORDER = 1;

/** One face's twin: the twin image (CHW in [−1, 1], as the engine's tensors) and its region (R·R, nonzero inside). */
export interface Twin {
  readonly twin: Float32Array;
  readonly region: Uint8Array;
}

export interface TwinVerdict {
  readonly progress: number;
  readonly outside: number;
  readonly success: boolean;
  readonly preserved: boolean;
}

/**
 * The twin's name for a list of targets, as tools/asyrp_tools/twins.py writes it: one "label=value" per target,
 * sorted and joined with ",". A scalar target names its end (smile:+ → "smile=1", at a negative strength
 * "smile=-1"); a binary one the value it wants; a class its label.
 */
export function twinKey(targets: readonly EvalTarget[]): string {
  return targets
    .map((t) => `${t.attribute}=${t.kind === 'scalar' ? t.sign : t.kind === 'binary' ? t.want : t.label}`)
    .sort()
    .join(',');
}

/** The region grown by `border` pixels (Chebyshev distance), as a 0/1 mask. */
export function dilate(region: Uint8Array, size: number, border: number): Uint8Array {
  const out = new Uint8Array(region.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (!region[y * size + x]) continue;
      for (let dy = -border; dy <= border; dy++)
        for (let dx = -border; dx <= border; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < size && xx >= 0 && xx < size) out[yy * size + xx] = 1;
        }
    }
  return out;
}

const clamp = (v: number) => Math.max(-1, Math.min(1, v));

/** Judges one edit of `input` against its twin; images CHW (3 channels) of size×size in [−1, 1]. */
export function judgeTwin(input: Float32Array, edit: Float32Array, twin: Twin, size: number): TwinVerdict {
  const P = size * size;
  if (input.length !== 3 * P || edit.length !== 3 * P || twin.twin.length !== 3 * P || twin.region.length !== P) {
    throw new RangeError(`judgeTwin: images must be 3×${size}×${size} and the region ${size}×${size}`);
  }
  const near = dilate(twin.region, size, TWIN_BORDER);
  let toTwin = 0;
  let left = 0;
  let changed = 0;
  let outsidePixels = 0;
  for (let p = 0; p < P; p++) {
    if (twin.region[p]) {
      for (let c = 0; c < 3; c++) {
        const i = c * P + p;
        const w = twin.twin[i]!;
        toTwin += (input[i]! - w) ** 2;
        left += (clamp(edit[i]!) - w) ** 2;
      }
    } else if (!near[p]) {
      let m = 0;
      for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(clamp(edit[c * P + p]!) - input[c * P + p]!));
      changed += m;
      outsidePixels++;
    }
  }
  // A twin identical to its input has nothing to show (an ineligible face); progress is then 0.
  const progress = toTwin > 0 ? 1 - Math.sqrt(left / toTwin) : 0;
  const outside = outsidePixels > 0 ? (changed / outsidePixels) * 127.5 : 0;
  return { progress, outside, success: progress >= TWIN_SUCCESS_PROGRESS, preserved: outside <= TWIN_PRESERVE_TOLERANCE };
}
