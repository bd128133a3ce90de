/**
 * Bytes in, images out: decode and preprocess per model.json, plan the recipe, run the edit, convert
 * back to pixels. The CLI uses this directly; the engine service batches the same pieces.
 */
import { EngineError } from '../errors.js';
import { centerCropResize, decodeImage, resizeImage, type ImageLimits, type RgbImage } from '../image/image-io.js';
import { rgbToTensor, tensorToRgb } from '../image/pixels.js';
import type { LoadedModel } from '../loaded-model.js';
import type { ModelManifest } from '../model/model-manifest.js';
import { parseRecipe, type Recipe } from '../recipe/parse-recipe.js';
import { planEdit, type EditPlan } from './edit-plan.js';
import { runEdit, type EditProgress, type EditTimings } from './run-edit.js';

export interface PreparedInput {
  /** The model-sized RGB image the edit starts from (the "before"). */
  readonly rgb: RgbImage;
  readonly tensor: Float32Array;
  readonly original: { readonly width: number; readonly height: number };
}

export async function prepareInput(bytes: Uint8Array, manifest: ModelManifest, limits: ImageLimits): Promise<PreparedInput> {
  const decoded = await decodeImage(bytes, limits);
  if (manifest.preprocess !== 'center-crop') {
    throw new EngineError('MODEL_INVALID', `preprocess "${manifest.preprocess}" is not supported by this engine yet`, { preprocess: manifest.preprocess });
  }
  const rgb = await centerCropResize(decoded, manifest.resolution);
  return { rgb, tensor: rgbToTensor(rgb), original: { width: decoded.width, height: decoded.height } };
}

export interface EditImageOptions {
  readonly limits: ImageLimits;
  /** Output edge length; the model's resolution when absent. */
  readonly size?: number;
  readonly onProgress?: (p: EditProgress) => void;
  readonly signal?: AbortSignal;
}

export interface EditImageResult {
  readonly before: RgbImage;
  readonly after: RgbImage;
  readonly plan: EditPlan;
  readonly recipe: Recipe;
  readonly timings: EditTimings & { decodeMs: number; totalMs: number };
}

export async function editImage(model: LoadedModel, bytes: Uint8Array, recipe: Recipe | string, opts: EditImageOptions): Promise<EditImageResult> {
  const t0 = performance.now();
  const parsed = typeof recipe === 'string' ? parseRecipe(recipe, { directions: model.directionNames() }) : recipe;
  const plan = planEdit(model.manifest, parsed, (name) => model.direction(name));
  const input = await prepareInput(bytes, model.manifest, opts.limits);
  const decodeMs = performance.now() - t0;
  const { x0, timings } = await runEdit(model.unet, model.alphasBar, input.tensor, plan, {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const R = model.manifest.resolution;
  let after = tensorToRgb(x0, R, R);
  let before = input.rgb;
  if (opts.size && opts.size !== R) {
    after = await resizeImage(after, opts.size, opts.size);
    before = await resizeImage(before, opts.size, opts.size);
  }
  return { before, after, plan, recipe: parsed, timings: { ...timings, decodeMs, totalMs: performance.now() - t0 } };
}
