/**
 * Turns BlazeFace's raw outputs into faces. The 256 "back" model predicts, for each of 896 fixed anchors,
 * a score logit and 16 offsets: box centre, width and height, then six keypoints, all in input pixels
 * relative to the anchor's centre. Anchors: a 16×16 grid (stride 16) with 2 anchors per cell, then an
 * 8×8 grid (stride 32) with 6 per cell, row-major, the anchors of one cell adjacent. (Checked against a
 * real photo: with this layout neighbouring anchors agree on the face's position to about a pixel.)
 */
import type { Point } from './affine.js';

export interface Anchor {
  /** Centre in input pixels. */
  readonly x: number;
  readonly y: number;
}

export function blazeFaceAnchors(inputSize = 256): Anchor[] {
  const anchors: Anchor[] = [];
  for (const [stride, perCell] of [
    [16, 2],
    [32, 6],
  ] as const) {
    const cells = Math.ceil(inputSize / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let k = 0; k < perCell; k++) anchors.push({ x: (gx + 0.5) * stride, y: (gy + 0.5) * stride });
      }
    }
  }
  return anchors;
}

export interface Box {
  /** Top-left corner and size (continuous pixel coordinates). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Keypoints, as BlazeFace orders them: the eye on the image's left when the face is upright (the person's
 * right eye), the other eye, nose tip, mouth centre, then the ear on the image's left and the other ear.
 */
export type FaceKeypoints = readonly [Point, Point, Point, Point, Point, Point];

export interface RawFace {
  /** Probability that this is a face (sigmoid of the logit). */
  readonly score: number;
  readonly box: Box;
  readonly keypoints: FaceKeypoints;
}

export interface DecodeOptions {
  /** Faces with a lower probability are dropped (default 0.5). */
  readonly minScore?: number;
  /** Overlap (intersection over union) above which two detections are the same face (default 0.3). */
  readonly iouThreshold?: number;
}

function sigmoid(v: number): number {
  // Clamped like MediaPipe does, so a huge logit cannot become NaN downstream.
  const c = Math.max(-100, Math.min(100, v));
  return 1 / (1 + Math.exp(-c));
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export function decodeBlazeFace(logits: Float32Array, regressors: Float32Array, anchors: readonly Anchor[], opts: DecodeOptions = {}): RawFace[] {
  const minScore = opts.minScore ?? 0.5;
  const candidates: RawFace[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const score = sigmoid(logits[i]!);
    if (score < minScore) continue;
    const a = anchors[i]!;
    const r = regressors.subarray(i * 16, i * 16 + 16);
    const cx = a.x + r[0]!;
    const cy = a.y + r[1]!;
    const w = r[2]!;
    const h = r[3]!;
    if (!(w > 0 && h > 0)) continue;
    const kp: Point[] = [];
    for (let k = 0; k < 6; k++) kp.push({ x: a.x + r[4 + 2 * k]!, y: a.y + r[5 + 2 * k]! });
    candidates.push({ score, box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, keypoints: kp as unknown as FaceKeypoints });
  }
  return weightedNms(candidates, opts.iouThreshold ?? 0.3);
}

/**
 * Weighted non-maximum suppression: the best remaining detection claims every detection overlapping it,
 * and the face becomes their score-weighted average. Averaging the several anchors that see one face is
 * markedly steadier than keeping only the best one, which matters because alignment uses the keypoints.
 */
export function weightedNms(candidates: readonly RawFace[], iouThreshold: number): RawFace[] {
  const left = [...candidates].sort((p, q) => q.score - p.score);
  const faces: RawFace[] = [];
  while (left.length > 0) {
    const best = left[0]!;
    const group: RawFace[] = [];
    for (let i = left.length - 1; i >= 0; i--) {
      if (iou(best.box, left[i]!.box) > iouThreshold || i === 0) group.push(...left.splice(i, 1));
    }
    let total = 0;
    let x = 0;
    let y = 0;
    let w = 0;
    let h = 0;
    const kx = new Array<number>(6).fill(0);
    const ky = new Array<number>(6).fill(0);
    for (const f of group) {
      total += f.score;
      x += f.score * f.box.x;
      y += f.score * f.box.y;
      w += f.score * f.box.width;
      h += f.score * f.box.height;
      f.keypoints.forEach((p, k) => {
        kx[k]! += f.score * p.x;
        ky[k]! += f.score * p.y;
      });
    }
    faces.push({
      score: best.score,
      box: { x: x / total, y: y / total, width: w / total, height: h / total },
      keypoints: kx.map((v, k) => ({ x: v / total, y: ky[k]! / total })) as unknown as FaceKeypoints,
    });
  }
  return faces;
}
