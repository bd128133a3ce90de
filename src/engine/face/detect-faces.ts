/**
 * Finding faces in a photo of any size: letterbox to the detector's square input, run it, decode, and
 * map boxes and keypoints back to photo pixels. Faces come largest first, so face 0 is the main subject.
 */
import { letterbox } from '../image/letterbox.js';
import type { RgbImage } from '../image/image-io.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import { applyAffine, composeAffine, distance, similarity, type Affine, type Point } from './affine.js';
import { detectorWindow, mirrorX } from './detector-window.js';
import { alignFace } from './face-alignment.js';
import { blazeFaceAnchors, decodeBlazeFace, iou, type Box, type FaceKeypoints, type RawFace } from './blazeface-decode.js';

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
  /**
   * Closer looks at each face (default 2 passes; 0 turns this off). The first detection sees the whole
   * photo at 256 px, where a small face spans a few dozen pixels and its keypoints are off by a pixel or
   * two, which is 10+ pixels in a 256 crop. Each pass re-runs the detector on windows around the face,
   * turned upright and scaled so the face fills them about as a CelebA-HQ crop does: the first pass
   * recentres, the last averages twelve windows (three sizes, each turned four ways, each also mirrored)
   * that show only what lies inside the crop. The keypoints then become nearly independent of
   * where, how large and how tilted the face was in the photo (≤ 0.5 px at 256 in tests).
   */
  readonly refinePasses?: number;
}

/**
 * Windows of the last refinement pass: the alignment crop grown by each size (a little context around the
 * crop) and turned by each angle in degrees, twelve in all, each also seen mirrored. Averaging them
 * cancels most of the detector's jitter: different sizes meet the anchor grids at different scales and
 * phases, and the turns average out the bias in its estimate of the face's roll, which the crop's corners
 * magnify most. Measured on 40 placements of five test photos (docs/faces.md), with the blur and the grey
 * surround below: six sizes without turns left the worst crop 2.5 % off in pixels; six sizes × ±3° or
 * four sizes × (−4°, 0°, 4°) 1.5–2.0 %; these three sizes × four turns 1.3–1.5 % at the same cost.
 * Windows tighter than the crop, half-stride shifts, a third pass, or a median instead of the mean did
 * not help.
 */
const REFINE_WINDOWS: readonly number[] = [1.15, 1.35, 1.55];
const WINDOW_TURNS: readonly number[] = [-6, -2, 2, 6];
/** The earlier passes only recentre. */
const RECENTRE_WINDOW: readonly number[] = [1.25];
/**
 * The last pass greys out everything beyond this fraction of the crop (about its centre): the keypoints
 * then come from the crop's own content, not from what surrounds it. The 5 % rim keeps out the photo's
 * edge where a crop just reaches it.
 */
const KEEP_INSIDE = 0.95;
/** Blur of every detector window, in window pixels (see detector-window.ts). */
const WINDOW_BLUR = 1;

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
    const bySize = (a: DetectedFace, b: DetectedFace) => b.box.width * b.box.height - a.box.width * a.box.height;
    // Refining costs about a second per face: only the faces that will be returned get it.
    let faces = raw.map((f) => mapFace(f, (p) => toPhoto(unrotatePoint(p, S, q)))).sort(bySize).slice(0, opts.maxFaces ?? 8);
    const passes = opts.refinePasses ?? 2;
    for (let pass = 0; pass < passes; pass++) {
      // The first pass only recentres; the last one averages over many windows.
      const last = pass === passes - 1;
      const refined: DetectedFace[] = [];
      for (const f of faces) refined.push((await refineFace(detector, photo, f, anchors, opts, last)) ?? f);
      faces = refined;
    }
    // Two coarse detections of one face (overlapping too little to be merged) converge when refined.
    const kept: DetectedFace[] = [];
    for (const f of faces.sort(bySize)) if (!kept.some((k) => iou(k.box, f.box) > 0.5)) kept.push(f);
    return kept;
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

/**
 * Looks at one face again through upright windows centred on its alignment crop. Returns null when the
 * detector does not confirm a face there (the coarse result is then kept). `last`: the averaging pass
 * (many windows, only the crop's inside visible) rather than a recentring one.
 */
async function refineFace(detector: FaceDetectorModel, photo: RgbImage, face: DetectedFace, anchors: ReturnType<typeof blazeFaceAnchors>, opts: DetectOptions, last: boolean): Promise<DetectedFace | null> {
  const S = detector.inputSize;
  let crop: ReturnType<typeof alignFace>;
  try {
    crop = alignFace(face, S);
  } catch {
    return null; // degenerate keypoints (all in one spot): keep the coarse detection
  }
  const mid = { x: S / 2, y: S / 2 };
  const centreOf = (f: RawFace) => ({ x: f.box.x + f.box.width / 2, y: f.box.y + f.box.height / 2 });
  const nearest = async (nhwc: Float32Array): Promise<RawFace | null> => {
    const out = await detector.run(nhwc);
    const raw = decodeBlazeFace(out.logits, out.regressors, anchors, opts);
    // The face we came for is the one nearest the window's centre.
    const best = raw.reduce<RawFace | null>((p, q) => (p === null || distance(centreOf(q), mid) < distance(centreOf(p), mid) ? q : p), null);
    return best && distance(centreOf(best), mid) <= S / 4 ? best : null;
  };
  const rim = (S * (1 - KEEP_INSIDE)) / 2;
  const seen: DetectedFace[] = [];
  for (const k of last ? REFINE_WINDOWS : RECENTRE_WINDOW) {
    for (const degrees of last ? WINDOW_TURNS : [0]) {
      // The window: the alignment crop grown k times and turned about its centre (the face stays upright).
      const turn = similarity(k, degrees, 0, 0);
      const turned = applyAffine(turn, mid);
      const windowToCrop: Affine = { ...turn, c: mid.x - turned.x, f: mid.y - turned.y };
      const windowToPhoto = composeAffine(windowToCrop, crop.cropToPhoto);
      const keep = last ? { windowToRegion: windowToCrop, min: rim, max: S - rim } : undefined;
      const input = detectorWindow(photo, windowToPhoto, S, { blurSigma: WINDOW_BLUR, ...(keep ? { keep } : {}) });
      // Each window is also seen mirrored: the detector's left/right biases cancel in the average.
      const direct = await nearest(input);
      const mirrored = await nearest(mirrorX(input, S));
      for (const f of [direct, mirrored && unmirror(mirrored, S)]) if (f) seen.push(mapFace(f, (p) => applyAffine(windowToPhoto, p)));
    }
  }
  if (seen.length === 0) return null;
  // Averaging looks through windows of different sizes and turns (so different anchor grids and pixel
  // phases) removes most of the detector's jitter, which the alignment would otherwise magnify at the
  // crop corners.
  const avg = (pick: (f: DetectedFace) => Point): Point => ({ x: seen.reduce((t, f) => t + pick(f).x, 0) / seen.length, y: seen.reduce((t, f) => t + pick(f).y, 0) / seen.length });
  const keypoints = [0, 1, 2, 3, 4, 5].map((i) => avg((f) => f.keypoints[i]!)) as unknown as FaceKeypoints;
  const box = {
    x: seen.reduce((t, f) => t + f.box.x, 0) / seen.length,
    y: seen.reduce((t, f) => t + f.box.y, 0) / seen.length,
    width: seen.reduce((t, f) => t + f.box.width, 0) / seen.length,
    height: seen.reduce((t, f) => t + f.box.height, 0) / seen.length,
  };
  return { score: Math.max(face.score, ...seen.map((f) => f.score)), box, keypoints, eyeLeft: keypoints[0], eyeRight: keypoints[1], mouth: keypoints[3] };
}

/** A detection in the mirrored window, expressed in the unmirrored one (left and right points swap roles). */
function unmirror(f: RawFace, size: number): RawFace {
  const m = (p: Point): Point => ({ x: size - p.x, y: p.y });
  const k = f.keypoints;
  return {
    score: f.score,
    box: { x: size - f.box.x - f.box.width, y: f.box.y, width: f.box.width, height: f.box.height },
    keypoints: [m(k[1]), m(k[0]), m(k[2]), m(k[3]), m(k[5]), m(k[4])],
  };
}
