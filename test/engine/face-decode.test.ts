/**
 * BlazeFace decoding and the mapping back to photo pixels, with a stand-in detector whose outputs are
 * chosen by the test: anchor layout, weighted NMS, letterbox offsets and the quarter-turn fallback.
 */
import { describe, expect, it } from 'vitest';
import { blazeFaceAnchors, decodeBlazeFace, iou } from '../../src/engine/face/blazeface-decode.js';
import { detectFaces } from '../../src/engine/face/detect-faces.js';
import type { FaceDetectorModel, FaceDetectorOutputs } from '../../src/engine/onnx/face-detector-session.js';
import type { RgbImage } from '../../src/engine/image/image-io.js';

const S = 256;
const expectPoint = (p: { x: number; y: number } | undefined, x: number, y: number) => {
  expect(p!.x).toBeCloseTo(x, 9);
  expect(p!.y).toBeCloseTo(y, 9);
};
const N = 896;

function outputs(faces: { anchor: number; logit: number; reg: number[] }[]): FaceDetectorOutputs {
  const logits = new Float32Array(N).fill(-20);
  const regressors = new Float32Array(N * 16);
  for (const f of faces) {
    logits[f.anchor] = f.logit;
    regressors.set(f.reg, f.anchor * 16);
  }
  return { logits, regressors };
}

/** Box 40×40 at (dx, dy) from the anchor; eyes ±10 to the sides and 5 up, nose, mouth 12 down, ears ±18. */
const faceReg = (dx: number, dy: number) => [dx, dy, 40, 40, dx - 10, dy - 5, dx + 10, dy - 5, dx, dy + 2, dx, dy + 12, dx - 18, dy, dx + 18, dy];

describe('anchors', () => {
  it('16×16×2 at stride 16, then 8×8×6 at stride 32, row-major, the anchors of one cell adjacent', () => {
    const a = blazeFaceAnchors();
    expect(a).toHaveLength(N);
    expect(a[0]).toEqual({ x: 8, y: 8 });
    expect(a[1]).toEqual({ x: 8, y: 8 });
    expect(a[2]).toEqual({ x: 24, y: 8 });
    expect(a[32]).toEqual({ x: 8, y: 24 });
    expect(a[511]).toEqual({ x: 248, y: 248 });
    expect(a[512]).toEqual({ x: 16, y: 16 });
    expect(a[517]).toEqual({ x: 16, y: 16 });
    expect(a[518]).toEqual({ x: 48, y: 16 });
    expect(a[895]).toEqual({ x: 240, y: 240 });
  });
});

describe('decodeBlazeFace', () => {
  const anchors = blazeFaceAnchors();

  it('decodes offsets from the anchor centre and drops low scores', () => {
    const i = (6 * 16 + 5) * 2; // cell (5, 6): centre (88, 104)
    const o = outputs([{ anchor: i, logit: 2, reg: faceReg(2, -3) }, { anchor: 700, logit: -1, reg: faceReg(0, 0) }]);
    const faces = decodeBlazeFace(o.logits, o.regressors, anchors);
    expect(faces).toHaveLength(1);
    const f = faces[0]!;
    expect(f.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    for (const [k, v] of Object.entries({ x: 70, y: 81, width: 40, height: 40 })) expect(f.box[k as 'x']).toBeCloseTo(v, 9);
    expectPoint(f.keypoints[0], 80, 96);
    expectPoint(f.keypoints[3], 90, 113);
  });

  it('merges overlapping detections into their score-weighted average and keeps separate faces apart', () => {
    const i = (6 * 16 + 5) * 2;
    const o = outputs([
      { anchor: i, logit: 3, reg: faceReg(0, 0) },
      { anchor: i + 1, logit: 1, reg: faceReg(4, 0) },
      { anchor: (2 * 16 + 12) * 2, logit: 2, reg: faceReg(0, 0) },
    ]);
    const faces = decodeBlazeFace(o.logits, o.regressors, anchors);
    expect(faces).toHaveLength(2);
    const [w1, w2] = [1 / (1 + Math.exp(-3)), 1 / (1 + Math.exp(-1))];
    expect(faces[0]!.box.x).toBeCloseTo(68 + (4 * w2) / (w1 + w2), 4);
    expect(faces[0]!.score).toBeCloseTo(w1, 6);
    expect(faces[1]!.box.x).toBeCloseTo(200 - 20, 4);
    expect(iou(faces[0]!.box, faces[1]!.box)).toBe(0);
  });
});

describe('detectFaces mapping', () => {
  it('maps through the letterbox back to photo pixels', async () => {
    // 512×256: scale 0.5, the picture occupies rows 64..191 of the detector input.
    const photo: RgbImage = { data: new Uint8Array(512 * 256 * 3).fill(90), width: 512, height: 256 };
    const i = (6 * 16 + 5) * 2;
    const fake: FaceDetectorModel = { inputSize: S, run: async () => outputs([{ anchor: i, logit: 4, reg: faceReg(2, -3) }]) };
    const [f] = await detectFaces(fake, photo, { refinePasses: 0 });
    // Box centre (90, 101) in the input → ((90 − 0) / 0.5, (101 − 64) / 0.5).
    expect(f!.box.x + f!.box.width / 2).toBeCloseTo(180, 6);
    expect(f!.box.y + f!.box.height / 2).toBeCloseTo(74, 6);
    expect(f!.box.width).toBeCloseTo(80, 6);
    expectPoint(f!.eyeLeft, 160, 64);
    expectPoint(f!.mouth, 180, 98);
  });

  it('finds a sideways face by turning the photo, and maps it back to where it is', async () => {
    // A bright marker at photo (300, 100) in a 400×400 photo (detector scale 0.64).
    const photo: RgbImage = { data: new Uint8Array(400 * 400 * 3), width: 400, height: 400 };
    for (let y = 98; y < 102; y++) for (let x = 298; x < 302; x++) photo.data.fill(255, (y * 400 + x) * 3, (y * 400 + x) * 3 + 3);
    let calls = 0;
    // Stand-in: "sees" a face only on its second look (the photo turned 90° clockwise), centred on the
    // brightest spot of what it was given.
    const fake: FaceDetectorModel = {
      inputSize: S,
      run: async (x) => {
        calls++;
        if (calls !== 2) return outputs([]);
        let best = 0;
        for (let p = 0; p < S * S; p++) if (x[p * 3]! > x[best * 3]!) best = p;
        const [bx, by] = [(best % S) + 0.5, Math.floor(best / S) + 0.5];
        const cell = Math.floor(by / 16) * 16 + Math.floor(bx / 16);
        const a = blazeFaceAnchors()[cell * 2]!;
        return outputs([{ anchor: cell * 2, logit: 4, reg: faceReg(bx - a.x, by - a.y) }]);
      },
    };
    const [f] = await detectFaces(fake, photo, { refinePasses: 0 });
    expect(calls).toBe(2);
    expect(f!.box.x + f!.box.width / 2).toBeCloseTo(300, -0.5);
    expect(f!.box.y + f!.box.height / 2).toBeCloseTo(100, -0.5);
    // In the turned picture the eyes lie left/right of the face; in the photo they are above/below it.
    expect(Math.abs(f!.eyeLeft.x - f!.eyeRight.x)).toBeLessThan(1e-6);
    expect(Math.abs(f!.eyeLeft.y - f!.eyeRight.y)).toBeCloseTo(20 / 0.64, 4);
  });

  it('returns nothing when no look finds a face', async () => {
    let calls = 0;
    const fake: FaceDetectorModel = { inputSize: S, run: async () => (calls++, outputs([])) };
    expect(await detectFaces(fake, { data: new Uint8Array(30 * 20 * 3), width: 30, height: 20 })).toEqual([]);
    expect(calls).toBe(4);
  });
});
