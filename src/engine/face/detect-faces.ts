/**
 * Finding faces in a photo of any size: letterbox to the detector's square input, run it, decode, and
 * map boxes and keypoints back to photo pixels. Faces come largest first, so face 0 is the main subject.
 */
import { letterbox } from '../image/letterbox.js';
import type { RgbImage } from '../image/image-io.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import type { Point } from './affine.js';
import { blazeFaceAnchors, decodeBlazeFace, type Box, type FaceKeypoints, type RawFace } from './blazeface-decode.js';

export interface DetectedFace {
  readonly score: number;
  /** Axis-aligned box in photo pixels. */
  readonly box: Box;
  /** BlazeFace's six points in photo pixels (see FaceKeypoints for the order). */
  readonly keypoints: FaceKeypoints;
  /** The eyes as they appear in the upright face (image-left first) and the mouth: what alignment needs. */
  readonly eyeLeft: Point;
  readonly eyeRight: Point;
  readonly mouth: Point;
}

export interface DetectOptions {
  readonly minScore?: number;
  readonly iouThreshold?: number;
  /** At most this many faces, largest first (default 8). */
  readonly maxFaces?: number;
  /**
   * When nothing is found upright, look again with the photo turned by 90°, 180° and 270° (default true):
   * BlazeFace only sees faces within about ±45° of upright, and sideways photos without EXIF orientation
   * are common in chat.
   */
  readonly tryRotations?: boolean;
}

/** Copies an NHWC square image turned clockwise by quarter turns. */
function rotateSquare(src: Float32Array, size: number, quarterTurns: number): Float32Array {
  if (quarterTurns === 0) return src;
  const out = new Float32Array(src.length);
  const n = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // out(x, y) = in(sx, sy) for a clockwise turn of the picture.
      const [sx, sy] = quarterTurns === 1 ? [y, n - x] : quarterTurns === 2 ? [n - x, n - y] : [n - y, x];
      const o = (y * size + x) * 3;
      const i = (sy * size + sx) * 3;
      out[o] = src[i]!;
      out[o + 1] = src[i + 1]!;
      out[o + 2] = src[i + 2]!;
    }
  }
  return out;
}

/** A continuous point in the turned image → the same point in the unturned one. */
function unrotatePoint(p: Point, size: number, quarterTurns: number): Point {
  if (quarterTurns === 1) return { x: p.y, y: size - p.x };
  if (quarterTurns === 2) return { x: size - p.x, y: size - p.y };
  if (quarterTurns === 3) return { x: size - p.y, y: p.x };
  return p;
}

export async function detectFaces(detector: FaceDetectorModel, photo: RgbImage, opts: DetectOptions = {}): Promise<DetectedFace[]> {
  const S = detector.inputSize;
  const lb = await letterbox(photo, S);
  const input = new Float32Array(S * S * 3);
  for (let i = 0; i < input.length; i++) input[i] = lb.image.data[i]! / 127.5 - 1;
  const anchors = blazeFaceAnchors(S);
  const toPhoto = (p: Point): Point => ({ x: (p.x - lb.offsetX) / lb.scaleX, y: (p.y - lb.offsetY) / lb.scaleY });

  const turns = opts.tryRotations === false ? [0] : [0, 1, 3, 2];
  for (const q of turns) {
    const out = await detector.run(rotateSquare(input, S, q));
    const raw = decodeBlazeFace(out.logits, out.regressors, anchors, opts);
    if (raw.length === 0) continue;
    const faces = raw.map((f) => mapFace(f, (p) => toPhoto(unrotatePoint(p, S, q))));
    faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    return faces.slice(0, opts.maxFaces ?? 8);
  }
  return [];
}

function mapFace(f: RawFace, map: (p: Point) => Point): DetectedFace {
  const keypoints = f.keypoints.map(map) as unknown as FaceKeypoints;
  const corners = [
    map({ x: f.box.x, y: f.box.y }),
    map({ x: f.box.x + f.box.width, y: f.box.y + f.box.height }),
  ];
  const x = Math.min(corners[0]!.x, corners[1]!.x);
  const y = Math.min(corners[0]!.y, corners[1]!.y);
  const box = { x, y, width: Math.abs(corners[1]!.x - corners[0]!.x), height: Math.abs(corners[1]!.y - corners[0]!.y) };
  return { score: f.score, box, keypoints, eyeLeft: keypoints[0], eyeRight: keypoints[1], mouth: keypoints[3] };
}
