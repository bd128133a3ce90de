/**
 * The face pipeline's two ends for `"preprocess": "align-face"` models: photo → aligned R×R crops (one per
 * face, or the one asked for), and edited crops → the photo with each face pasted back.
 */
import { EngineError } from '../errors.js';
import type { RgbImage } from '../image/image-io.js';
import { FaceDetectorSession, type FaceDetectorModel } from '../onnx/face-detector-session.js';
import { detectFaces, type DetectedFace } from './detect-faces.js';
import { alignFace, type FaceAlignment } from './face-alignment.js';
import { pasteBack, type PasteOptions } from './paste-back.js';
import { warpAffine } from './warp.js';

export interface AlignedFace {
  /** Position in the photo's face list (largest first), as a user would pick it. */
  readonly index: number;
  readonly face: DetectedFace;
  readonly alignment: FaceAlignment;
  /** The aligned crop, R×R: what the model edits and the "before". */
  readonly crop: RgbImage;
}

export interface AlignFacesOptions {
  /** Only this face (0 = the largest); all faces found when absent. */
  readonly faceIndex?: number;
  /** At most this many faces when no index is given (default 4: one batch stays affordable on a CPU). */
  readonly maxFaces?: number;
}

let shared: Promise<FaceDetectorSession> | null = null;

/** The packaged BlazeFace graph, loaded once per process on first use (a few MB, ~50 ms). */
export function sharedFaceDetector(): Promise<FaceDetectorModel> {
  if (!shared) {
    shared = FaceDetectorSession.load();
    // A failed load is not cached: the next photo tries again.
    shared.catch(() => (shared = null));
  }
  return shared;
}

export async function alignFaces(photo: RgbImage, size: number, detector: FaceDetectorModel, opts: AlignFacesOptions = {}): Promise<AlignedFace[]> {
  const faces = await detectFaces(detector, photo, { maxFaces: Math.max(opts.maxFaces ?? 4, (opts.faceIndex ?? 0) + 1) });
  if (faces.length === 0) {
    throw new EngineError('NO_FACE', 'no face found in the image; this model edits faces, so send a photo where a face is clearly visible', { faces: 0 });
  }
  const wanted = opts.faceIndex === undefined ? faces.map((_, i) => i).slice(0, opts.maxFaces ?? 4) : [opts.faceIndex];
  const missing = wanted.find((i) => !Number.isInteger(i) || i < 0 || i >= faces.length);
  if (missing !== undefined) {
    throw new EngineError('NO_FACE', `face ${missing + 1} was asked for, but the image has ${faces.length} face${faces.length === 1 ? '' : 's'}`, { faces: faces.length, faceIndex: missing });
  }
  return wanted.map((index) => {
    const face = faces[index]!;
    const alignment = alignFace(face, size);
    return { index, face, alignment, crop: warpAffine(photo, alignment.cropToPhoto, size, size) };
  });
}

/** Pastes each edited crop back, in order, into a copy of the photo. */
export function pasteFaces(photo: RgbImage, edits: readonly { readonly alignment: FaceAlignment; readonly edited: RgbImage }[], opts: PasteOptions = {}): RgbImage {
  let out = photo;
  for (const e of edits) out = pasteBack(out, e.edited, e.alignment.cropToPhoto, e.alignment.photoToCrop, opts);
  return out;
}
