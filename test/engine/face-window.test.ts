/**
 * The detector's refinement windows (src/engine/face/detector-window.ts): blur, grey surround, mirroring.
 */
import { describe, expect, it } from 'vitest';
import { detectorWindow, gaussianBlurNhwc, mirrorX } from '../../src/engine/face/detector-window.js';
import type { RgbImage } from '../../src/engine/image/image-io.js';

const S = 32;
const identity = { a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 };

function noise(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = 7;
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return { data, width, height };
}

describe('detector windows', () => {
  it('the blur keeps a flat image flat and spreads a point symmetrically, keeping its total', () => {
    const flat = new Float32Array(S * S * 3).fill(0.25);
    gaussianBlurNhwc(flat, S, 1);
    for (const v of flat) expect(v).toBeCloseTo(0.25, 6);

    const dot = new Float32Array(S * S * 3);
    const at = (x: number, y: number, c = 0) => (y * S + x) * 3 + c;
    dot[at(16, 16, 1)] = 1;
    gaussianBlurNhwc(dot, S, 1);
    let total = 0;
    for (let i = 1; i < dot.length; i += 3) total += dot[i]!;
    expect(total).toBeCloseTo(1, 5);
    expect(dot[at(16, 16, 1)]).toBeCloseTo(1 / (2 * Math.PI), 1); // the peak of a unit 2-D Gaussian
    expect(dot[at(15, 16, 1)]).toBeCloseTo(dot[at(17, 16, 1)]!, 6);
    expect(dot[at(16, 14, 1)]).toBeCloseTo(dot[at(14, 16, 1)]!, 6);
    expect(dot[at(16, 16, 0)]).toBe(0); // channels do not mix
  });

  it('greys out exactly the pixels whose centre maps outside the kept square', () => {
    const photo = noise(S, S);
    const full = detectorWindow(photo, identity, S, { blurSigma: 0 });
    const kept = detectorWindow(photo, identity, S, { blurSigma: 0, keep: { windowToRegion: identity, min: 4, max: 28 } });
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const o = (y * S + x) * 3;
        const inside = x + 0.5 >= 4 && x + 0.5 <= 28 && y + 0.5 >= 4 && y + 0.5 <= 28;
        for (let c = 0; c < 3; c++) expect(kept[o + c]).toBe(inside ? full[o + c] : 0);
      }
    }
    // Through the identity map the window is the photo itself, scaled to [-1, 1].
    expect(full[5]).toBeCloseTo(photo.data[5]! / 127.5 - 1, 6);
  });

  it('mirroring twice gives the window back', () => {
    const w = detectorWindow(noise(S, S), identity, S, { blurSigma: 1 });
    const m = mirrorX(w, S);
    expect(m[0]).toBe(w[(S - 1) * 3]);
    expect(mirrorX(m, S)).toEqual(w);
  });
});
