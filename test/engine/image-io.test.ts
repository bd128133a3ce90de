/** Untrusted images: each is decoded correctly or refused with a specific code; none crashes. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { centerCropResize, checkImageHeader, decodeCenterCropped, decodeImage, encodePng, sideBySide, sniffFormat } from '../../src/engine/image/image-io.js';
import { rgbToTensor, tensorToRgb } from '../../src/engine/image/pixels.js';
import { EngineError } from '../../src/engine/errors.js';

const limits = { maxInputBytes: 20_000_000, maxInputPixels: 50_000_000 };

const solid = (w: number, h: number, background: string, channels: 3 | 4 = 3) => sharp({ create: { width: w, height: h, channels, background } });

async function refusal(bytes: Uint8Array, lim = limits): Promise<EngineError> {
  try {
    await decodeImage(bytes, lim);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** A valid PNG whose header claims width×height: a decompression bomb in a few hundred bytes. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(4, 4, '#808080').png().toBuffer());
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe('decodeImage refuses bad input with a specific code', () => {
  it('0 bytes', async () => {
    expect((await refusal(new Uint8Array(0))).code).toBe('IMAGE_EMPTY');
  });

  it('a truncated PNG', async () => {
    const png = await solid(64, 64, '#336699').png().toBuffer();
    const e = await refusal(png.subarray(0, png.length - 40));
    expect(e.code).toBe('IMAGE_CORRUPT');
    expect(e.message).toMatch(/PNG image/);
  });

  it('a 20000×20000 pixel bomb, before decoding', async () => {
    const bomb = await pngClaiming(20000, 20000);
    expect(bomb.length).toBeLessThan(1000);
    const e = await refusal(bomb);
    expect(e.code).toBe('IMAGE_TOO_LARGE');
    expect(e.message).toContain('20000×20000');
  });

  it('too many bytes', async () => {
    const png = await solid(64, 64, '#336699').png().toBuffer();
    expect((await refusal(png, { ...limits, maxInputBytes: 100 })).code).toBe('IMAGE_TOO_LARGE');
  });

  it.each([
    ['SVG', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', /an SVG drawing/],
    ['PDF', '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF', /a PDF document/],
    ['text named .png', 'hello, this is not an image\n', /the file is text/],
    ['HTML login page', '<!DOCTYPE html><html><body>Sign in</body></html>', /an HTML page/],
  ])('%s', async (_name, text, pattern) => {
    const e = await refusal(new TextEncoder().encode(text));
    expect(e.code).toBe('IMAGE_UNSUPPORTED_FORMAT');
    expect(e.message).toMatch(pattern);
  });

  it('random bytes behind a PNG signature', async () => {
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
    expect((await refusal(bytes)).code).toBe('IMAGE_CORRUPT');
  });
});

describe('checkImageHeader (what an API node without models checks)', () => {
  it('reads format and size from the header, and refuses a bomb or a non-image as decodeImage does', async () => {
    const png = await solid(40, 24, '#336699').png().toBuffer();
    expect(await checkImageHeader(png, limits)).toEqual({ format: 'png', width: 40, height: 24 });
    await expect(checkImageHeader(await pngClaiming(20000, 20000), limits)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    await expect(checkImageHeader(new TextEncoder().encode('<svg/>'), limits)).rejects.toMatchObject({ code: 'IMAGE_UNSUPPORTED_FORMAT' });
    await expect(checkImageHeader(new Uint8Array(0), limits)).rejects.toMatchObject({ code: 'IMAGE_EMPTY' });
  });
});

describe('decodeImage handles real-world variants', () => {
  it('a CMYK JPEG becomes sRGB', async () => {
    const jpeg = await solid(16, 16, '#ff0000').toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
    const img = await decodeImage(jpeg, limits);
    expect([img.width, img.height, img.data.length]).toEqual([16, 16, 16 * 16 * 3]);
    expect(img.data[0]).toBeGreaterThan(200);
    expect(img.data[2]).toBeLessThan(60);
  });

  it('a 16-bit PNG becomes 8-bit', async () => {
    const png = await solid(8, 8, '#4080c0').toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const img = await decodeImage(png, limits);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([0x40, 0x80, 0xc0]);
  });

  it('grayscale becomes three equal channels', async () => {
    const png = await solid(8, 8, '#808080').greyscale().png().toBuffer();
    const img = await decodeImage(png, limits);
    expect(img.data.length).toBe(8 * 8 * 3);
    expect(new Set(img.data.subarray(0, 3))).toEqual(new Set([128]));
  });

  it('transparency is flattened on white', async () => {
    const png = await solid(8, 8, '#00000000', 4).png().toBuffer();
    const img = await decodeImage(png, limits);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 255, 255]);
  });

  it('an animated GIF gives its first frame', async () => {
    const red = await solid(8, 8, '#ff0000').png().toBuffer();
    const blue = await solid(8, 8, '#0000ff').png().toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
    const img = await decodeImage(gif, limits);
    expect([img.width, img.height]).toEqual([8, 8]);
    expect(img.data[0]).toBeGreaterThan(200);
    expect(img.data[2]).toBeLessThan(50);
  });

  it('EXIF orientation is applied', async () => {
    const tall = await solid(10, 20, '#ff0000').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(tall, limits);
    expect([img.width, img.height]).toEqual([20, 10]);
  });

  it('sniffs formats by content, not name', () => {
    expect(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(new TextEncoder().encode('GIF89a....'))).toBe('gif');
    expect(sniffFormat(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffFormat(new TextEncoder().encode('BM......'))).toBeNull();
  });
});

describe('preprocessing and output', () => {
  it('centre-crops to a square and resizes; an R×R input is used as is', async () => {
    // Left half black, right half white, 40×20: the centre square is 20×20 from x = 10.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 20; x < 40; x++) raw.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    const out = await centerCropResize({ data: raw, width: 40, height: 20 }, 10);
    expect([out.width, out.height]).toEqual([10, 10]);
    expect(out.data[0]).toBeLessThan(20);
    expect(out.data[(10 - 1) * 3]).toBeGreaterThan(235);
    const same = { data: new Uint8Array(10 * 10 * 3), width: 10, height: 10 };
    expect(await centerCropResize(same, 10)).toBe(same);
  });

  it('decodeCenterCropped gives the two-step path\'s pixels for PNG and WebP in one pass, and refuses what decodeImage refuses', async () => {
    const [w, h] = [300, 200];
    const raw = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7 + Math.floor(i / 3 / w) * 3) % 256);
    for (const format of ['png', 'webp'] as const) {
      const bytes = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).toFormat(format, format === 'webp' ? { lossless: true } : {}).toBuffer();
      const twoStep = await centerCropResize(await decodeImage(bytes, limits), 32);
      const fused = await decodeCenterCropped(bytes, limits, 32);
      expect(fused.original).toEqual({ width: w, height: h });
      expect([fused.rgb.width, fused.rgb.height]).toEqual([32, 32]);
      expect(Buffer.from(fused.rgb.data).equals(Buffer.from(twoStep.data))).toBe(true);
    }
    const png = await solid(64, 64, '#336699').png().toBuffer();
    await expect(decodeCenterCropped(png.subarray(0, png.length - 40), limits, 32)).rejects.toMatchObject({ code: 'IMAGE_CORRUPT' });
    await expect(decodeCenterCropped(await pngClaiming(20000, 20000), limits, 32)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('tensors round-trip through [-1, 1] and out-of-range values are clamped', () => {
    const img = { data: Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20), width: 2, height: 2 };
    expect(Array.from(tensorToRgb(rgbToTensor(img), 2, 2).data)).toEqual(Array.from(img.data));
    const wild = Float32Array.from([-3, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(tensorToRgb(wild, 2, 2).data.subarray(0, 6))).toEqual([0, 128, 128, 255, 128, 128]);
  });

  it('writes PNGs and side-by-side comparisons', async () => {
    const a = { data: new Uint8Array(4 * 4 * 3).fill(0), width: 4, height: 4 };
    const b = { data: new Uint8Array(4 * 4 * 3).fill(200), width: 4, height: 4 };
    const both = await sideBySide([a, b], 2);
    expect([both.width, both.height]).toEqual([10, 4]);
    const png = await encodePng(both);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 10, 4]);
  });
});
