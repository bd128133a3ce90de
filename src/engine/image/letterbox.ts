/**
 * Letterboxing for detectors with a fixed square input: the whole photo is scaled (aspect kept) to fit
 * size×size and centred on black bars, so a face anywhere in the photo is seen undistorted.
 */
import sharp from 'sharp';
import type { RgbImage } from './image-io.js';

export interface Letterboxed {
  readonly image: RgbImage;
  /** Photo coordinates = (letterbox coordinates − offset) / scale, per axis (continuous pixel coordinates). */
  readonly scaleX: number;
  readonly scaleY: number;
  readonly offsetX: number;
  readonly offsetY: number;
}

export async function letterbox(img: RgbImage, size: number): Promise<Letterboxed> {
  const s = size / Math.max(img.width, img.height);
  const w = Math.max(1, Math.min(size, Math.round(img.width * s)));
  const h = Math.max(1, Math.min(size, Math.round(img.height * s)));
  let resized: Uint8Array;
  if (w === img.width && h === img.height) {
    resized = img.data;
  } else {
    const { data } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    resized = new Uint8Array(data.buffer, data.byteOffset, data.length);
  }
  const offsetX = Math.floor((size - w) / 2);
  const offsetY = Math.floor((size - h) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < h; y++) out.set(resized.subarray(y * w * 3, (y + 1) * w * 3), ((y + offsetY) * size + offsetX) * 3);
  // Rounding w and h makes the two axes' scales differ slightly; keeping both makes the mapping exact.
  return { image: { data: out, width: size, height: size }, scaleX: w / img.width, scaleY: h / img.height, offsetX, offsetY };
}
