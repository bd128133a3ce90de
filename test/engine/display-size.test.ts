/** Enlarging results for chat clients: the plan (size and filter) and real sharp output. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { displayPlan, enlargeForDisplay } from '../../src/engine/image/display-size.js';

describe('displayPlan', () => {
  it('enlarges a tiny model by the whole factor that reaches the display size, with nearest neighbour', () => {
    expect(displayPlan(32, 32, 512, 32)).toEqual({ width: 512, height: 512, kernel: 'nearest' });
    // before | after of a 32 px model: 68×32 → ×8.
    expect(displayPlan(68, 32, 512, 32)).toEqual({ width: 544, height: 256, kernel: 'nearest' });
    // A sweep grid wider than 64 px is still made of 32 px tiles: nearest.
    expect(displayPlan(140, 32, 512, 32)?.kernel).toBe('nearest');
  });

  it('enlarges a larger model to exactly the display size with a smooth filter', () => {
    expect(displayPlan(256, 256, 512, 256)).toEqual({ width: 512, height: 512, kernel: 'lanczos3' });
    expect(displayPlan(516, 256, 1024, 256)).toEqual({ width: 1024, height: 508, kernel: 'lanczos3' });
  });

  it('leaves an image that is already big enough alone', () => {
    expect(displayPlan(512, 512, 512, 512)).toBeNull();
    expect(displayPlan(1024, 300, 512, 256)).toBeNull();
    expect(displayPlan(32, 32, 0, 32)).toBeNull();
  });
});

describe('enlargeForDisplay', () => {
  const png = (w: number, h: number, pixel: (x: number, y: number) => number) => {
    const data = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(pixel(x, y), (y * w + x) * 3, (y * w + x) * 3 + 3);
    return sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  };

  it('keeps a tiny model\'s pixels as sharp squares (only the colours that were there)', async () => {
    const checker = await png(4, 4, (x, y) => ((x + y) % 2 ? 255 : 0));
    const out = await sharp((await enlargeForDisplay(checker, 64, 4))!).raw().toBuffer({ resolveWithObject: true });
    expect([out.info.width, out.info.height]).toEqual([64, 64]);
    expect(new Set(out.data)).toEqual(new Set([0, 255]));
  });

  it('smooths a larger model (new in-between tones at the edges)', async () => {
    const halves = await png(100, 100, (x) => (x < 50 ? 0 : 255));
    const out = await sharp((await enlargeForDisplay(halves, 300, 100))!).raw().toBuffer({ resolveWithObject: true });
    expect([out.info.width, out.info.height]).toEqual([300, 300]);
    expect([...new Set(out.data)].some((v) => v > 20 && v < 235)).toBe(true);
  });

  it('answers null when nothing needs enlarging', async () => {
    expect(await enlargeForDisplay(await png(600, 400, () => 9), 512, 256)).toBeNull();
  });
});
