/**
 * Turns finished trajectories into the files a chat user gets: the edit, the preprocessed input, a
 * before | after, and for sweeps a grid and an animated WebP. Written atomically into the job's folder.
 */
import { join } from 'node:path';
import type { ResultVariant } from '../client/api-types.js';
import { encodeAnimatedWebp, encodePng, resizeImage, sideBySide, type RgbImage } from '../image/image-io.js';
import { tensorToRgb } from '../image/pixels.js';
import { pasteFaces } from '../face/face-crops.js';
import { writeFileAtomicAsync } from './atomic-file.js';
import type { Job } from './job.js';

export const RESULT_FILES: Record<ResultVariant, { file: string; contentType: string }> = {
  after: { file: 'after.png', contentType: 'image/png' },
  before: { file: 'before.png', contentType: 'image/png' },
  compare: { file: 'compare.png', contentType: 'image/png' },
  grid: { file: 'grid.png', contentType: 'image/png' },
  animation: { file: 'animation.webp', contentType: 'image/webp' },
};

export async function writeJobResults(job: Job, dir: string, resolution: number): Promise<ResultVariant[]> {
  const input = job.input!;
  const face = input.faces?.[0];
  const size = job.request.size ?? resolution;
  // Face models: the edited crop goes back into the whole photo (pixels outside the face are untouched);
  // other models: the model-sized square, resized on request.
  const place = face && input.photo ? async (crop: RgbImage) => pasteFaces(input.photo!, [{ alignment: face.alignment, edited: crop }]) : (img: RgbImage) => resizeImage(img, size, size);
  const before = face && input.photo ? input.photo : await place(input.rgb);
  const afters = await Promise.all(job.generations.map((g) => place(tensorToRgb(g.x, resolution, resolution))));
  const files: [ResultVariant, Uint8Array][] = [
    ['before', await encodePng(before)],
    // A sweep's "after" is its strongest sample; the grid shows them all.
    ['after', await encodePng(afters[afters.length - 1]!)],
    ['compare', await encodePng(await sideBySide([before, afters[afters.length - 1]!]))],
  ];
  if (job.request.kind === 'sweep') {
    files.push(['grid', await encodePng(await sideBySide([before, ...afters]))]);
    files.push(['animation', await encodeAnimatedWebp([before, ...afters])]);
  }
  // On libuv's pool, side by side: their fsyncs do not hold the event loop (the jobs of a batch often end
  // on the same tick; written synchronously, 16 jobs' files and records held it 0.45-0.75 s on the 2-core
  // VM, docs/benchmarks.md "Inference worker").
  await Promise.all(files.map(([variant, bytes]) => writeFileAtomicAsync(join(dir, RESULT_FILES[variant].file), bytes)));
  return files.map(([v]) => v);
}

/** A small PNG of a predicted x0 (P_t) for progress previews, base64. */
export async function previewPng(x0: Float32Array): Promise<string> {
  const R = Math.round(Math.sqrt(x0.length / 3));
  const edge = Math.min(R, 128);
  return (await encodePng(await resizeImage(tensorToRgb(x0, R, R), edge, edge))).toString('base64');
}
