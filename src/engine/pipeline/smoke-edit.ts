/**
 * A short edit that shows a freshly converted package works end to end in this engine: a synthetic image
 * (no face detection needed, so face models are checked the same way) is inverted and generated back in a
 * few steps, once plain and once with a direction from the same x_T; the outputs must be finite and,
 * with a direction, differ.
 */
import { parseRecipe } from '../recipe/parse-recipe.js';
import { EngineError } from '../errors.js';
import type { LoadedModel } from '../loaded-model.js';
import { planEdit } from './edit-plan.js';
import { runEdit } from './run-edit.js';

export interface SmokeEditResult {
  readonly direction: string | null;
  readonly steps: number;
  readonly seconds: number;
  /** Mean |edited − plain| over the image, in [-1, 1] units (0 without a direction). */
  readonly change: number;
  readonly provider: string;
}

/** Smooth colour gradients with a disc: an image with structure at every scale, in [-1, 1]. */
export function syntheticImage(resolution: number): Float32Array {
  const R = resolution;
  const x = new Float32Array(3 * R * R);
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < R; j++) {
      const u = i / Math.max(1, R - 1);
      const v = j / Math.max(1, R - 1);
      const disc = (u - 0.5) ** 2 + (v - 0.45) ** 2 < 0.08 ? 0.5 : 0;
      x[i * R + j] = -0.6 + 1.2 * u * 0.8 + disc;
      x[R * R + i * R + j] = -0.4 + 0.8 * v + disc * 0.6;
      x[2 * R * R + i * R + j] = 0.3 * Math.sin(6 * u + 3 * v) - disc * 0.4;
    }
  }
  return x;
}

export async function smokeEdit(model: LoadedModel, direction: string | null, steps = 4): Promise<SmokeEditResult> {
  const started = performance.now();
  const x0 = syntheticImage(model.manifest.resolution);
  const get = (name: string) => model.direction(name);
  const plain = planEdit(model.manifest, parseRecipe(`steps:${steps}`), get);
  const a = await runEdit(model.unet, model.alphasBar, x0, plain);
  let change = 0;
  let out = a.x0;
  if (direction) {
    const edited = planEdit(model.manifest, parseRecipe(`${direction} steps:${steps}`), get);
    const b = await runEdit(model.unet, model.alphasBar, x0, edited, { xT: a.xT });
    out = b.x0;
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += Math.abs(out[i]! - a.x0[i]!);
    change = sum / out.length;
    if (!(change > 0)) throw new EngineError('INFERENCE_FAILED', `the direction ${direction} changed nothing in the smoke edit`);
  }
  for (const v of [...a.x0, ...out]) {
    if (!Number.isFinite(v)) throw new EngineError('INFERENCE_FAILED', 'the smoke edit produced NaN or infinite values');
  }
  return { direction, steps, seconds: (performance.now() - started) / 1000, change, provider: model.unet.provider };
}
