/**
 * The twins of an evaluation folder (tools/asyrp_tools/renderer.py --twins): beside images/NNNNNN.png,
 * twins/<key>/NNNNNN.png is the same face drawn with the target on and regions/<key>/NNNNNN.png its region
 * (white inside). A face with no twin file is not eligible for that key (it has the target already).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EngineError } from '../errors.js';
import type { Twin } from './twin-judge.js';

/** Decodes image bytes to the engine's CHW tensor in [−1, 1] at the model's resolution. */
export type DecodeImage = (bytes: Uint8Array, file: string) => Promise<Float32Array>;

/** Whether the folder holds twins for this key. */
export function hasTwins(dir: string, key: string): boolean {
  return existsSync(join(dir, 'twins', key)) && existsSync(join(dir, 'regions', key));
}

/** One entry per face file, in order: its twin, or undefined where the face has none (not eligible). */
export async function readTwins(dir: string, key: string, faceFiles: readonly string[], decode: DecodeImage): Promise<(Twin | undefined)[]> {
  const out: (Twin | undefined)[] = [];
  for (const face of faceFiles) {
    const twinFile = join(dir, 'twins', key, basename(face));
    if (!existsSync(twinFile)) {
      out.push(undefined);
      continue;
    }
    const regionFile = join(dir, 'regions', key, basename(face));
    if (!existsSync(regionFile)) throw new EngineError('IO_FAILED', `${twinFile} has no region: ${regionFile} is missing`);
    const twin = await decode(readFileSync(twinFile), twinFile);
    const mask = await decode(readFileSync(regionFile), regionFile);
    const P = mask.length / 3;
    const region = new Uint8Array(P);
    for (let p = 0; p < P; p++) region[p] = mask[p]! > 0 ? 1 : 0;
    out.push({ twin, region });
  }
  return out;
}
