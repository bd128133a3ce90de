/**
 * Bytes in, images out: decode and preprocess per model.json, plan the recipe, run the edit, convert
 * back to pixels. The CLI uses this directly; the engine service batches the same pieces.
 */
import { checkDomain } from './domain-check.js';
import { EngineError } from '../errors.js';
import { alignFaces, pasteFaces, sharedFaceDetector, type AlignedFace } from '../face/face-crops.js';
import { centerCropResize, decodeCenterCropped, decodeImage, resizeImage, type ImageLimits, type RgbImage } from '../image/image-io.js';
import type { FaceAlignment } from '../face/face-alignment.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import { rgbToTensor, tensorToRgb } from '../image/pixels.js';
import type { LoadedModel } from '../loaded-model.js';
import type { ModelManifest } from '../model/model-manifest.js';
import { parseRecipe, type Recipe } from '../recipe/parse-recipe.js';
import { planEdit, type EditPlan } from './edit-plan.js';
import { runEdit, runEditBatch, type EditProgress, type EditTimings } from './run-edit.js';

export interface PreparedInput {
  /** The model-sized RGB image the edit starts from (the "before"); for face models, the first face's crop. */
  readonly rgb: RgbImage;
  readonly tensor: Float32Array;
  readonly original: { readonly width: number; readonly height: number };
  /**
   * Face models ("align-face") only: the decoded photo, for pasting back, and every face to edit, each
   * with its aligned crop and tensor (rgb/tensor above are faces[0]'s).
   */
  readonly photo?: RgbImage;
  readonly faces?: readonly PreparedFace[];
}

export interface PreparedFace extends AlignedFace {
  readonly tensor: Float32Array;
}

export interface PrepareOptions {
  /** Face models: edit only this face (0 = the largest); every face found (up to maxFaces) when absent. */
  readonly faceIndex?: number;
  /** Face models: at most this many faces at once (default 4). */
  readonly maxFaces?: number;
  /** Face models: the detector to use; the packaged BlazeFace, loaded once, when absent. */
  readonly faceDetector?: FaceDetectorModel;
}

export async function prepareInput(bytes: Uint8Array, manifest: ModelManifest, limits: ImageLimits, opts: PrepareOptions = {}): Promise<PreparedInput> {
  const decoded = await decodeImage(bytes, limits);
  const original = { width: decoded.width, height: decoded.height };
  if (manifest.preprocess === 'align-face') {
    const detector = opts.faceDetector ?? (await sharedFaceDetector());
    const aligned = await alignFaces(decoded, manifest.resolution, detector, {
      ...(opts.faceIndex !== undefined ? { faceIndex: opts.faceIndex } : {}),
      ...(opts.maxFaces !== undefined ? { maxFaces: opts.maxFaces } : {}),
    });
    const faces = aligned.map((f) => ({ ...f, tensor: rgbToTensor(f.crop) }));
    return { rgb: faces[0]!.crop, tensor: faces[0]!.tensor, original, photo: decoded, faces };
  }
  if (manifest.preprocess !== 'center-crop') {
    throw new EngineError('MODEL_INVALID', `preprocess "${manifest.preprocess}" is not supported by this engine yet`, { preprocess: manifest.preprocess });
  }
  const rgb = await centerCropResize(decoded, manifest.resolution);
  return { rgb, tensor: rgbToTensor(rgb), original };
}

/**
 * What a submit checks (the image decodes, the domain check's input) at less cost than prepareInput:
 * a centre-crop model's input is decoded and resized in one pass (decodeCenterCropped). The job itself
 * prepares its input with prepareInput when it starts. Face models take prepareInput's path.
 */
export async function prepareCheckInput(bytes: Uint8Array, manifest: ModelManifest, limits: ImageLimits, opts: PrepareOptions = {}): Promise<PreparedInput> {
  if (manifest.preprocess !== 'center-crop') return prepareInput(bytes, manifest, limits, opts);
  const { rgb, original } = await decodeCenterCropped(bytes, limits, manifest.resolution);
  return { rgb, tensor: rgbToTensor(rgb), original };
}

export interface EditImageOptions {
  readonly limits: ImageLimits;
  /** Output edge length; the model's resolution when absent. */
  readonly size?: number;
  readonly onProgress?: (p: EditProgress) => void;
  readonly signal?: AbortSignal;
  /** Face models: edit only this face (0 = the largest); all faces found (in one batch) when absent. */
  readonly faceIndex?: number;
  /** Face models: at most this many faces (default 4). */
  readonly maxFaces?: number;
  /**
   * Face models: 'photo' (default) pastes each edited face back into the full-resolution photo, and
   * before/after are whole photos; 'crop' returns the first face's aligned crop before and after.
   */
  readonly faceOutput?: 'photo' | 'crop';
  readonly faceDetector?: FaceDetectorModel;
}

export interface EditedFace {
  readonly index: number;
  readonly score: number;
  /** Face box in the photo's pixels. */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Where the crop sits in the photo (its quad, and the maps both ways). */
  readonly alignment: FaceAlignment;
  /** The aligned crop before and after the edit, R×R. */
  readonly before: RgbImage;
  readonly after: RgbImage;
}

export interface EditImageResult {
  readonly before: RgbImage;
  readonly after: RgbImage;
  /** Face models: each edited face, in the order of `faceIndex` numbering (largest first). */
  readonly faces?: readonly EditedFace[];
  readonly plan: EditPlan;
  readonly recipe: Recipe;
  readonly timings: EditTimings & { decodeMs: number; totalMs: number };
  /** The input is clearly outside what the model edits (./domain-check.ts): one line for the person. */
  readonly domainNote?: string;
}

export async function editImage(model: LoadedModel, bytes: Uint8Array, recipe: Recipe | string, opts: EditImageOptions): Promise<EditImageResult> {
  const t0 = performance.now();
  const parsed = typeof recipe === 'string' ? parseRecipe(recipe, { directions: model.directionNames() }) : recipe;
  const plan = planEdit(model.manifest, parsed, (name) => model.direction(name));
  const input = await prepareInput(bytes, model.manifest, opts.limits, {
    ...(opts.faceIndex !== undefined ? { faceIndex: opts.faceIndex } : {}),
    ...(opts.maxFaces !== undefined ? { maxFaces: opts.maxFaces } : {}),
    ...(opts.faceDetector ? { faceDetector: opts.faceDetector } : {}),
  });
  const decodeMs = performance.now() - t0;
  const runOpts = {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const R = model.manifest.resolution;
  if (input.faces && input.photo) {
    // Faces are independent samples of the same edit: one batch for all of them.
    const { x0s, timings } = await runEditBatch(model.unet, model.alphasBar, input.faces.map((f) => f.tensor), plan, runOpts);
    const faces: EditedFace[] = input.faces.map((f, i) => ({ index: f.index, score: f.face.score, box: f.face.box, alignment: f.alignment, before: f.crop, after: tensorToRgb(x0s[i]!, R, R) }));
    let before: RgbImage;
    let after: RgbImage;
    if (opts.faceOutput === 'crop') {
      before = faces[0]!.before;
      after = faces[0]!.after;
      if (opts.size && opts.size !== R) [before, after] = await Promise.all([resizeImage(before, opts.size, opts.size), resizeImage(after, opts.size, opts.size)]);
    } else {
      before = input.photo;
      after = pasteFaces(input.photo, input.faces.map((f, i) => ({ alignment: f.alignment, edited: faces[i]!.after })));
      // A size scales the longer side; the photo keeps its shape.
      if (opts.size && opts.size !== Math.max(before.width, before.height)) {
        const s = opts.size / Math.max(before.width, before.height);
        const w = Math.max(1, Math.round(before.width * s));
        const h = Math.max(1, Math.round(before.height * s));
        [before, after] = await Promise.all([resizeImage(before, w, h), resizeImage(after, w, h)]);
      }
    }
    return { before, after, faces, plan, recipe: parsed, timings: { ...timings, decodeMs, totalMs: performance.now() - t0 } };
  }
  const { x0, timings } = await runEdit(model.unet, model.alphasBar, input.tensor, plan, runOpts);
  let after = tensorToRgb(x0, R, R);
  let before = input.rgb;
  if (opts.size && opts.size !== R) {
    after = await resizeImage(after, opts.size, opts.size);
    before = await resizeImage(before, opts.size, opts.size);
  }
  const domain = await checkDomain(model.pkg, input, model.inference);
  return { before, after, plan, recipe: parsed, timings: { ...timings, decodeMs, totalMs: performance.now() - t0 }, ...(domain ? { domainNote: domain.text } : {}) };
}
