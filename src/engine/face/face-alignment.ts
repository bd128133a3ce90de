/**
 * The crop that FFHQ and CelebA-HQ were made with, computed from two eye centres and the mouth centre.
 * The models for `"preprocess": "align-face"` were trained on such crops, so matching the rule (not just
 * "a box around the face") is what makes their edits work on ordinary photos.
 *
 * The rule: with eye_avg the mid-point of the eyes, eye_to_eye = right − left eye (as seen in the image)
 * and eye_to_mouth = mouth − eye_avg, the crop's x axis is eye_to_eye − rot90(eye_to_mouth), so the eye
 * line and the eyes-to-mouth line both vote for the face's roll. Its half-side is
 * max(|eye_to_eye|·2.0, |eye_to_mouth|·1.8): whichever of face width or face height is the larger decides
 * the zoom. The centre sits a tenth of the way from the eyes towards the mouth. The crop is a square
 * (a similarity transform: rotation, uniform scale, shift), never sheared.
 */
import { applyAffine, invertAffine, type Affine, type Point } from './affine.js';

export interface FaceAlignment {
  /** Crop edge length in pixels. */
  readonly size: number;
  readonly center: Point;
  /** Half the crop's x and y edges, in photo pixels (y = x turned 90° towards the mouth). */
  readonly xAxis: Point;
  readonly yAxis: Point;
  /** Crop corners in the photo: top-left, bottom-left, bottom-right, top-right (as the crop shows them). */
  readonly quad: readonly [Point, Point, Point, Point];
  /** Crop coordinates (0..size) → photo coordinates. */
  readonly cropToPhoto: Affine;
  /** Photo coordinates → crop coordinates. */
  readonly photoToCrop: Affine;
}

export interface FaceLandmarks {
  /** The eye on the image's left when the face is upright (the person's right eye). */
  readonly eyeLeft: Point;
  readonly eyeRight: Point;
  /** Centre of the mouth. */
  readonly mouth: Point;
}

/** rot90 here turns a vector a quarter towards +x from +y: (x, y) ↦ (−y, x). */
function rot90(v: Point): Point {
  return { x: -v.y, y: v.x };
}

export function alignFace(lm: FaceLandmarks, size: number): FaceAlignment {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`crop size must be a positive integer, got ${size}`);
  const eyeAvg = { x: (lm.eyeLeft.x + lm.eyeRight.x) / 2, y: (lm.eyeLeft.y + lm.eyeRight.y) / 2 };
  const eyeToEye = { x: lm.eyeRight.x - lm.eyeLeft.x, y: lm.eyeRight.y - lm.eyeLeft.y };
  const eyeToMouth = { x: lm.mouth.x - eyeAvg.x, y: lm.mouth.y - eyeAvg.y };
  const r = rot90(eyeToMouth);
  const dir = { x: eyeToEye.x - r.x, y: eyeToEye.y - r.y };
  const len = Math.hypot(dir.x, dir.y);
  if (!(len > 1e-9)) throw new RangeError('the eye and mouth points are degenerate (they coincide)');
  const half = Math.max(Math.hypot(eyeToEye.x, eyeToEye.y) * 2.0, Math.hypot(eyeToMouth.x, eyeToMouth.y) * 1.8);
  const xAxis = { x: (dir.x / len) * half, y: (dir.y / len) * half };
  // rot90 of x points from the eyes towards the mouth: the crop's "down".
  const yAxis = { x: -xAxis.y, y: xAxis.x };
  const center = { x: eyeAvg.x + eyeToMouth.x * 0.1, y: eyeAvg.y + eyeToMouth.y * 0.1 };
  const topLeft = { x: center.x - xAxis.x - yAxis.x, y: center.y - xAxis.y - yAxis.y };
  // Crop (u, v) in [0, size]² lands at topLeft + (u/size)·2x + (v/size)·2y.
  const cropToPhoto: Affine = {
    a: (2 * xAxis.x) / size,
    b: (2 * yAxis.x) / size,
    c: topLeft.x,
    d: (2 * xAxis.y) / size,
    e: (2 * yAxis.y) / size,
    f: topLeft.y,
  };
  const corner = (u: number, v: number) => applyAffine(cropToPhoto, { x: u, y: v });
  return {
    size,
    center,
    xAxis,
    yAxis,
    quad: [corner(0, 0), corner(0, size), corner(size, size), corner(size, 0)],
    cropToPhoto,
    photoToCrop: invertAffine(cropToPhoto),
  };
}
