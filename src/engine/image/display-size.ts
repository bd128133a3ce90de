/**
 * Results people can see. A 32×32 edit is a speck in a chat client, so results (and before/after and
 * sweep grids) smaller than a display size are enlarged for display; the model-resolution original stays
 * available beside it. Tiny models are enlarged with nearest neighbour by a whole factor, so every model
 * pixel stays a sharp square and nothing is invented; larger models with a smooth filter (Lanczos-3),
 * which looks like a photo rather than a mosaic at a small factor.
 */
import sharp from 'sharp';

/** Model resolutions up to this are "tiny": enlarged with nearest neighbour. */
export const TINY_MODEL_EDGE = 64;

export interface DisplayPlan {
  readonly width: number;
  readonly height: number;
  readonly kernel: 'nearest' | 'lanczos3';
}

/**
 * How to show a width×height image at `displaySize` on its long side, or null when it is already that big.
 * `modelResolution` (the edge the model works at) picks the filter: a grid of 32 px tiles is still tiny
 * content even when the grid itself is wider than 64 px.
 */
export function displayPlan(width: number, height: number, displaySize: number, modelResolution: number): DisplayPlan | null {
  const long = Math.max(width, height);
  if (!(displaySize > 0) || long >= displaySize) return null;
  if (modelResolution <= TINY_MODEL_EDGE) {
    // A whole factor, at least reaching the display size: 32 → 512 is ×16, a 68 px before|after ×8.
    const factor = Math.ceil(displaySize / long);
    return { width: width * factor, height: height * factor, kernel: 'nearest' };
  }
  const scale = displaySize / long;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), kernel: 'lanczos3' };
}

/** The image enlarged for display as PNG, or null when it is big enough as it is (or not a still image). */
export async function enlargeForDisplay(bytes: Uint8Array, displaySize: number, modelResolution: number): Promise<Buffer | null> {
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height || (meta.pages ?? 1) > 1) return null;
  const plan = displayPlan(meta.width, meta.height, displaySize, modelResolution);
  if (!plan) return null;
  return sharp(bytes).resize(plan.width, plan.height, { fit: 'fill', kernel: plan.kernel }).png({ compressionLevel: 6 }).toBuffer();
}
