/** The twin judge's pixel rules and the worst-group breakdown, on hand-made images with known answers. */
import { describe, expect, it } from 'vitest';
import { GroupStats, MIN_GROUP } from '../../src/engine/eval/group-stats.js';
import { dilate, judgeTwin, TWIN_PRESERVE_TOLERANCE, twinKey } from '../../src/engine/eval/twin-judge.js';

const S = 8;
const P = S * S;
/** A grey image, with pixels in the 2×2 block at (3..4, 3..4) set to `inside` on every channel. */
function image(inside: number, outside = 0, outsideAt?: (p: number) => boolean): Float32Array {
  const x = new Float32Array(3 * P);
  for (let p = 0; p < P; p++) {
    const y = Math.floor(p / S);
    const xx = p % S;
    const v = y >= 3 && y <= 4 && xx >= 3 && xx <= 4 ? inside : outsideAt === undefined || outsideAt(p) ? outside : 0;
    for (let c = 0; c < 3; c++) x[c * P + p] = v;
  }
  return x;
}
const region = Uint8Array.from({ length: P }, (_, p) => (Math.floor(p / S) >= 3 && Math.floor(p / S) <= 4 && p % S >= 3 && p % S <= 4 ? 1 : 0));
const twin = { twin: image(1), region };

describe('judgeTwin', () => {
  it('measures progress as the share of the distance to the twin closed inside the region', () => {
    expect(judgeTwin(image(0), image(1), twin, S)).toMatchObject({ progress: 1, success: true, preserved: true, outside: 0 });
    expect(judgeTwin(image(0), image(0), twin, S)).toMatchObject({ progress: 0, success: false, preserved: true });
    expect(judgeTwin(image(0), image(0.5), twin, S).progress).toBeCloseTo(0.5, 6);
    expect(judgeTwin(image(0), image(0.5), twin, S).success).toBe(true);
    expect(judgeTwin(image(0), image(0.45), twin, S).success).toBe(false);
    // Moving away from the twin is negative progress; values outside −1..1 are clamped as an image is.
    expect(judgeTwin(image(0), image(-0.5), twin, S).progress).toBeCloseTo(-0.5, 6);
    expect(judgeTwin(image(0), image(3), twin, S).progress).toBeCloseTo(1, 6);
  });

  it('keeps the input outside the region and a one-pixel border within the tolerance', () => {
    const tol = TWIN_PRESERVE_TOLERANCE / 127.5;
    // The border ring (rows and columns 2 and 5) is not judged, however much it changes.
    const ring = (p: number) => {
      const y = Math.floor(p / S);
      const x = p % S;
      return y >= 2 && y <= 5 && x >= 2 && x <= 5;
    };
    expect(judgeTwin(image(0), image(1, 1, ring), twin, S).preserved).toBe(true);
    expect(judgeTwin(image(0), image(1, tol * 0.9), twin, S).preserved).toBe(true);
    const spoiled = judgeTwin(image(0), image(1, tol * 1.1), twin, S);
    expect(spoiled.preserved).toBe(false);
    expect(spoiled.outside).toBeCloseTo(TWIN_PRESERVE_TOLERANCE * 1.1, 4);
    // The success verdict is independent of the outside.
    expect(spoiled.success).toBe(true);
  });

  it('refuses images of the wrong size, and gives no progress for a twin equal to its input', () => {
    expect(() => judgeTwin(image(0), new Float32Array(3), twin, S)).toThrow(RangeError);
    expect(judgeTwin(image(1), image(1), twin, S)).toMatchObject({ progress: 0, success: false });
  });

  it('grows a region by a Chebyshev border', () => {
    const one = new Uint8Array(P);
    one[3 * S + 3] = 1;
    expect(dilate(one, S, 1).reduce((a, b) => a + b, 0)).toBe(9);
    one[0] = 1;
    expect(dilate(one, S, 1).reduce((a, b) => a + b, 0)).toBe(13);
  });
});

describe('twinKey', () => {
  it('names the twins as the renderer writes them, sorted, the sign of a scalar included', () => {
    expect(twinKey([{ kind: 'scalar', attribute: 'smile', sign: 1 }])).toBe('smile=1');
    expect(twinKey([{ kind: 'scalar', attribute: 'smile', sign: -1 }])).toBe('smile=-1');
    expect(twinKey([{ kind: 'scalar', attribute: 'smile', sign: 1 }, { kind: 'binary', attribute: 'glasses', want: 1 }])).toBe('glasses=1,smile=1');
    expect(twinKey([{ kind: 'binary', attribute: 'eyes_open', want: 0 }])).toBe('eyes_open=0');
    expect(twinKey([{ kind: 'class', attribute: 'hair_colour', index: 3, label: 'red' }])).toBe('hair_colour=red');
  });
});

describe('GroupStats', () => {
  it('counts each face under every facet and names the worst group of at least MIN_GROUP faces', () => {
    const g = new GroupStats();
    for (let i = 0; i < 10; i++) g.add({ skin_tone: i < 5 ? 'dark' : 'light', eyes_open: 1, hair_colour: 'red', face_shape: 'round' }, i >= 3, true);
    // A small group that fails completely is listed but not named: one or two faces are not a rate.
    for (let i = 0; i < MIN_GROUP - 1; i++) g.add({ skin_tone: 'medium', eyes_open: 0 }, false, i > 0);
    const by = g.byFacet();
    expect(Object.keys(by).sort()).toEqual(['eyes_open', 'hair_colour', 'skin_tone']);
    expect(by.skin_tone).toEqual({ dark: { eligible: 5, success: 2, preserved: 5 }, light: { eligible: 5, success: 5, preserved: 5 }, medium: { eligible: 4, success: 0, preserved: 3 } });
    expect(g.worst()).toEqual({ facet: 'skin_tone', value: 'dark', eligible: 5, success: 0.4, preservation: 1 });
    // Every large group keeps all faces: the tie goes to the lower success.
    expect(g.worst('preservation')).toMatchObject({ facet: 'skin_tone', value: 'dark', preservation: 1 });
    expect(new GroupStats().worst()).toBeUndefined();
  });
});
