/**
 * Image decoding and encoding with sharp (the only module that imports it). Untrusted bytes are checked
 * before any pixel is decoded: size, a known raster signature (SVG, PDF and other vector or document
 * formats are refused), and the pixel count via the header and sharp's limitInputPixels (pixel bombs).
 */
import sharp from 'sharp';
import { EngineError } from '../errors.js';

export interface ImageLimits {
  readonly maxInputBytes: number;
  readonly maxInputPixels: number;
}

/** 8-bit RGB, interleaved, row-major. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export type RasterFormat = 'png' | 'jpeg' | 'gif' | 'webp';

// Keep libvips from holding decoded images between calls: inputs are one-shot and memory matters more.
sharp.cache(false);

/** Identifies the format by its leading bytes; the file name and declared MIME type are not trusted. */
export function sniffFormat(bytes: Uint8Array): RasterFormat | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return 'gif';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return null;
}

function describeUnknown(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 256)).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('%pdf')) return 'a PDF document';
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'an SVG drawing';
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'an HTML page';
  if ([...head].every((c) => c === '\t' || c === '\n' || c === '\r' || (c >= ' ' && c <= '~'))) return 'text';
  return 'not a supported image';
}

/**
 * What a decode would be refused for, from the bytes and the header alone (no pixel decoded): empty, over
 * the byte limit, not a raster format we take, an unreadable header, over the pixel limit. An API node
 * of the Redis scale-out, which decodes nothing, checks this before queueing.
 */
export async function checkImageHeader(bytes: Uint8Array, limits: ImageLimits): Promise<{ format: RasterFormat; width: number; height: number }> {
  if (bytes.length === 0) throw new EngineError('IMAGE_EMPTY', 'the image is empty (0 bytes)');
  if (bytes.length > limits.maxInputBytes) {
    throw new EngineError('IMAGE_TOO_LARGE', `the image is ${bytes.length} bytes; the limit is ${limits.maxInputBytes}`, { bytes: bytes.length, limit: limits.maxInputBytes });
  }
  const format = sniffFormat(bytes);
  if (!format) {
    throw new EngineError('IMAGE_UNSUPPORTED_FORMAT', `the file is ${describeUnknown(bytes)}; send a PNG, JPEG, WebP or GIF image`, { kind: describeUnknown(bytes) });
  }
  const options = { limitInputPixels: limits.maxInputPixels, failOn: 'error' as const, pages: 1 };
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    // Header only: no pixels are decoded here, so the size can be checked (and named) before decoding.
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw new EngineError('IMAGE_CORRUPT', `the ${format.toUpperCase()} image cannot be read: ${cleanSharpMessage(e)}`, { format }, { cause: e });
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new EngineError('IMAGE_CORRUPT', `the ${format.toUpperCase()} image has no size in its header`, { format });
  if (width * height > limits.maxInputPixels) {
    throw new EngineError('IMAGE_TOO_LARGE', `the image is ${width}×${height} pixels; the limit is ${limits.maxInputPixels} pixels`, { width, height, limit: limits.maxInputPixels });
  }
  return { format, width, height };
}

/**
 * Decodes untrusted bytes to 8-bit sRGB: auto-oriented (EXIF), alpha flattened on white, CMYK and 16-bit
 * converted, the first frame of an animation.
 */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<RgbImage> {
  return (await decodeRgb(bytes, limits)).rgb;
}

/** The one decode pipeline both entry points share; with size, centre-cropped and resized inside it. */
async function decodeRgb(bytes: Uint8Array, limits: ImageLimits, size?: number): Promise<{ rgb: RgbImage; original: { width: number; height: number } }> {
  const { format, width, height } = await checkImageHeader(bytes, limits);
  const options = { limitInputPixels: limits.maxInputPixels, failOn: 'error' as const, pages: 1 };
  try {
    let pipeline = sharp(bytes, options)
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha();
    if (size !== undefined) pipeline = pipeline.resize(size, size, { fit: 'cover', position: 'centre', kernel: 'lanczos3', fastShrinkOnLoad: false });
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { rgb: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height }, original: { width, height } };
  } catch (e) {
    throw new EngineError('IMAGE_CORRUPT', `the ${format.toUpperCase()} image is damaged or truncated: ${cleanSharpMessage(e)}`, { format }, { cause: e });
  }
}

function cleanSharpMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.replace(/^Input (buffer|file) /, '').slice(0, 200);
}

/**
 * decodeImage and centerCropResize in one sharp pipeline: the full-size pixels never come back to
 * JavaScript and the image crosses the thread pool once instead of twice (2.4 ms instead of 4.0 ms for a
 * 256×256 PNG, docs/benchmarks.md "submit path"). The same validation (header, pixel limit, a damaged
 * image fails). Pixels equal the two-step path's for PNG and WebP; a JPEG may differ by a few levels
 * (libjpeg's shrink-on-load), so the engine uses this only to check a submit, never for the edit itself.
 */
export async function decodeCenterCropped(bytes: Uint8Array, limits: ImageLimits, size: number): Promise<{ rgb: RgbImage; original: { width: number; height: number } }> {
  return decodeRgb(bytes, limits, size);
}

/** Centre square crop, then resize to size×size (an image already that size is used as is). */
export async function centerCropResize(img: RgbImage, size: number): Promise<RgbImage> {
  if (img.width === size && img.height === size) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Resizes to exactly width×height (used for output sizes other than the model's). */
export async function resizeImage(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}

/** Places images left to right on a white canvas, with a small gap (before | after). */
export async function sideBySide(images: readonly RgbImage[], gap = 4): Promise<RgbImage> {
  const height = Math.max(...images.map((i) => i.height));
  const width = images.reduce((w, i) => w + i.width, 0) + gap * (images.length - 1);
  const canvas = new Uint8Array(width * height * 3).fill(255);
  let x0 = 0;
  for (const img of images) {
    for (let y = 0; y < img.height; y++) {
      canvas.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), (y * width + x0) * 3);
    }
    x0 += img.width + gap;
  }
  return { data: canvas, width, height };
}

/** An animated WebP of equally sized frames (sweeps: the edit growing in strength). */
export async function encodeAnimatedWebp(frames: readonly RgbImage[], delayMs = 400): Promise<Buffer> {
  const pngs = await Promise.all(frames.map((f) => encodePng(f)));
  return sharp(pngs, { join: { animated: true } })
    .webp({ loop: 0, delay: frames.map(() => delayMs), lossless: true })
    .toBuffer();
}
