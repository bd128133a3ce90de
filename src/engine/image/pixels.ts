/** Conversion between 8-bit RGB pixels and model tensors (CHW, float32 in [-1, 1]). */
import type { RgbImage } from './image-io.js';

export function rgbToTensor(img: RgbImage): Float32Array {
  const { width: w, height: h, data } = img;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[i * 3]! / 127.5 - 1;
    out[plane + i] = data[i * 3 + 1]! / 127.5 - 1;
    out[2 * plane + i] = data[i * 3 + 2]! / 127.5 - 1;
  }
  return out;
}

/** round(clamp((x + 1) · 127.5)) per channel; the model's output is never clamped before this. */
export function tensorToRgb(x: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(3 * plane);
  const px = (v: number) => Math.round(Math.min(255, Math.max(0, (v + 1) * 127.5)));
  for (let i = 0; i < plane; i++) {
    data[i * 3] = px(x[i]!);
    data[i * 3 + 1] = px(x[plane + i]!);
    data[i * 3 + 2] = px(x[2 * plane + i]!);
  }
  return { data, width, height };
}
