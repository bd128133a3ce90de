/**
 * Contact sheets of equally sized images (samples from noise on a model card). Pure pixel copying, no
 * resampling filter: each image is enlarged by an integer factor with nearest neighbour, so every model
 * pixel stays a sharp square and the grid shows exactly what the model produced.
 */
import type { RgbImage } from './image-io.js';

export interface GridLayout {
  readonly perRow: number;
  /** Integer enlargement of each tile (1 = model pixels as they are). */
  readonly scale: number;
  /** White pixels between tiles. */
  readonly gap: number;
}

/** The grid's size in pixels for `count` images of `width`×`height` (so callers and tests can predict it). */
export function gridSize(count: number, width: number, height: number, layout: GridLayout): { width: number; height: number } {
  const cols = Math.min(layout.perRow, count);
  const rows = Math.ceil(count / layout.perRow);
  return { width: cols * width * layout.scale + (cols - 1) * layout.gap, height: rows * height * layout.scale + (rows - 1) * layout.gap };
}

/** Row-major tiles on a white canvas; all images must have the size of the first. */
export function tileGrid(images: readonly RgbImage[], layout: GridLayout): RgbImage {
  const first = images[0];
  if (!first) throw new Error('tileGrid needs at least one image');
  const { width: w, height: h } = first;
  if (!Number.isInteger(layout.scale) || layout.scale < 1) throw new Error(`grid scale must be a whole number ≥ 1; got ${layout.scale}`);
  const tw = w * layout.scale;
  const th = h * layout.scale;
  const { width, height } = gridSize(images.length, w, h, layout);
  const canvas = new Uint8Array(width * height * 3).fill(255);
  images.forEach((img, i) => {
    if (img.width !== w || img.height !== h) throw new Error(`grid tile ${i} is ${img.width}×${img.height}; expected ${w}×${h}`);
    const x0 = (i % layout.perRow) * (tw + layout.gap);
    const y0 = Math.floor(i / layout.perRow) * (th + layout.gap);
    for (let y = 0; y < th; y++) {
      const src = Math.floor(y / layout.scale) * w;
      const dst = (y0 + y) * width + x0;
      for (let x = 0; x < tw; x++) {
        const s = (src + Math.floor(x / layout.scale)) * 3;
        const d = (dst + x) * 3;
        canvas[d] = img.data[s]!;
        canvas[d + 1] = img.data[s + 1]!;
        canvas[d + 2] = img.data[s + 2]!;
      }
    }
  });
  return { data: canvas, width, height };
}
