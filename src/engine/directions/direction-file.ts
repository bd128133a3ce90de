/**
 * Direction files: directions/<name>.safetensors holding `delta_h` float32 [K,C,H,W] and `timesteps`
 * int32 [K] (ascending), with string metadata (name, description, and optionally tEdit, tBoost,
 * defaultStrength, source). Δh at timestep t is the linear interpolation between the two nearest stored
 * timesteps, clamped at the ends; K = 1 is a global direction (docs/method.md §2.3).
 *
 * Optionally `h_gain` float32 [C,C]: an h-dependent part, a 1×1 convolution of h added to Δh_t, so the
 * shift can depend on the image as the paper's f_t does (docs/method.md §2.1, a linear f_t without its
 * timestep embedding). It reads h of the generation's previous step (see GenerationTrajectory).
 * Optionally an h-net (hnet_w1, hnet_b1, hnet_wt, hnet_w2): the paper's nonlinear f_t(h, t), small
 * (h-net.ts), also on h of the previous step.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EngineError } from '../errors.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { decodeHNet, encodeHNet, type HNet } from './h-net.js';

export interface DirectionMeta {
  readonly name: string;
  readonly description: string;
  readonly tEdit?: number;
  readonly tBoost?: number;
  readonly defaultStrength?: number;
  readonly source?: string;
  /**
   * The direction that makes this one's negative side (metadata "negative"): a recipe's strength s < 0
   * runs that direction at |s| instead of this one at s. Asyrp's Δh is linear in its strength, but a
   * grin and a frown are not opposite changes in pixels, so one file made for both draws neither well
   * (docs/quality.md); smile names frown.
   */
  readonly negative?: string;
  /** Every metadata string as stored (learning records example counts and the like). */
  readonly raw: Readonly<Record<string, string>>;
}

export interface Direction {
  readonly meta: DirectionMeta;
  readonly timesteps: Int32Array;
  /** [K·C·H·W] */
  readonly deltaH: Float32Array;
  /** [C·C], row-major (out, in): Δh gains G·h at every position of h; absent for a global direction. */
  readonly hGain?: Float32Array;
  /** The nonlinear f(h, t) (h-net.ts); absent for most directions. */
  readonly hNet?: HNet;
  readonly hspace: readonly [number, number, number];
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

function metaNumber(raw: Record<string, string>, key: string, file: string): number | undefined {
  const v = raw[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new EngineError('DIRECTION_INVALID', `${file}: metadata "${key}" must be a number; got "${v}"`, { file });
  return n;
}

export function decodeDirection(bytes: Uint8Array, file: string, hspace: readonly [number, number, number]): Direction {
  const { tensors, metadata } = parseSafetensors(bytes, file);
  const dh = tensors.get('delta_h');
  const ts = tensors.get('timesteps');
  if (!dh || dh.dtype !== 'F32') throw new EngineError('DIRECTION_INVALID', `${file}: needs a float32 tensor "delta_h" [K,C,H,W]`, { file });
  if (!ts || ts.dtype !== 'I32' || ts.shape.length !== 1) throw new EngineError('DIRECTION_INVALID', `${file}: needs an int32 tensor "timesteps" [K]`, { file });
  const K = ts.shape[0]!;
  const [C, H, W] = hspace;
  const want = [K, C, H, W];
  if (dh.shape.length !== 4 || dh.shape.some((d, i) => d !== want[i])) {
    throw new EngineError('MODEL_MISMATCH', `${file}: delta_h has shape [${dh.shape.join(',')}] but this model's h-space needs [${want.join(',')}]`, { file, shape: dh.shape, expected: want });
  }
  if (K < 1) throw new EngineError('DIRECTION_INVALID', `${file}: no timesteps`, { file });
  const timesteps = ts.data as Int32Array;
  for (let i = 1; i < K; i++) {
    if (timesteps[i]! <= timesteps[i - 1]!) throw new EngineError('DIRECTION_INVALID', `${file}: timesteps must be strictly ascending`, { file });
  }
  const values = dh.data as Float32Array;
  if (!values.every(Number.isFinite)) throw new EngineError('DIRECTION_INVALID', `${file}: delta_h holds NaN or infinite values`, { file });
  let hGain: Float32Array | undefined;
  const g = tensors.get('h_gain');
  if (g) {
    if (g.dtype !== 'F32') throw new EngineError('DIRECTION_INVALID', `${file}: h_gain must be float32 [C,C]; got ${g.dtype}`, { file });
    if (g.shape.length !== 2 || g.shape[0] !== C || g.shape[1] !== C) {
      throw new EngineError('MODEL_MISMATCH', `${file}: h_gain has shape [${g.shape.join(',')}] but this model's h-space needs [${C},${C}]`, { file, shape: g.shape, expected: [C, C] });
    }
    hGain = g.data as Float32Array;
    if (!hGain.every(Number.isFinite)) throw new EngineError('DIRECTION_INVALID', `${file}: h_gain holds NaN or infinite values`, { file });
  }
  const hNet = decodeHNet(tensors, file, C);
  const name = metadata.name ?? basename(file).replace(/\.safetensors$/, '');
  const tEdit = metaNumber(metadata, 'tEdit', file);
  const tBoost = metaNumber(metadata, 'tBoost', file);
  const defaultStrength = metaNumber(metadata, 'defaultStrength', file);
  const negative = metadata.negative || undefined;
  if (negative !== undefined && (!NAME.test(negative) || negative === name)) {
    throw new EngineError('DIRECTION_INVALID', `${file}: metadata "negative" must name another direction; got "${negative}"`, { file });
  }
  return {
    meta: {
      name,
      description: metadata.description ?? '',
      ...(tEdit !== undefined ? { tEdit } : {}),
      ...(tBoost !== undefined ? { tBoost } : {}),
      ...(defaultStrength !== undefined ? { defaultStrength } : {}),
      ...(metadata.source !== undefined ? { source: metadata.source } : {}),
      ...(negative !== undefined ? { negative } : {}),
      raw: metadata,
    },
    timesteps,
    deltaH: values,
    ...(hGain ? { hGain } : {}),
    ...(hNet ? { hNet } : {}),
    hspace,
  };
}

export function encodeDirection(d: {
  meta: Omit<DirectionMeta, 'raw'> & { raw?: Record<string, string> };
  timesteps: Int32Array;
  deltaH: Float32Array;
  hGain?: Float32Array;
  hNet?: HNet;
  hspace: readonly [number, number, number];
}): Uint8Array {
  const K = d.timesteps.length;
  const metadata: Record<string, string> = { ...(d.meta.raw ?? {}), name: d.meta.name, description: d.meta.description };
  for (const key of ['tEdit', 'tBoost', 'defaultStrength', 'source', 'negative'] as const) {
    const v = d.meta[key];
    if (v !== undefined) metadata[key] = String(v);
  }
  return serializeSafetensors(
    {
      delta_h: { dtype: 'F32', shape: [K, ...d.hspace], data: d.deltaH },
      timesteps: { dtype: 'I32', shape: [K], data: d.timesteps },
      ...(d.hGain ? { h_gain: { dtype: 'F32' as const, shape: [d.hspace[0], d.hspace[0]], data: d.hGain } } : {}),
      ...(d.hNet ? encodeHNet(d.hNet, d.hspace[0]) : {}),
    },
    metadata,
  );
}

/** Δh at timestep t: linear interpolation between stored timesteps, clamped at the ends. */
export function directionAt(d: Direction, t: number, out?: Float32Array): Float32Array {
  const size = d.hspace[0] * d.hspace[1] * d.hspace[2];
  const res = out ?? new Float32Array(size);
  const ts = d.timesteps;
  const K = ts.length;
  const row = (k: number) => d.deltaH.subarray(k * size, (k + 1) * size);
  if (K === 1 || t <= ts[0]!) {
    res.set(row(0));
    return res;
  }
  if (t >= ts[K - 1]!) {
    res.set(row(K - 1));
    return res;
  }
  let k = 0;
  while (ts[k + 1]! < t) k++;
  const t0 = ts[k]!;
  const t1 = ts[k + 1]!;
  const w = (t - t0) / (t1 - t0);
  const a = row(k);
  const b = row(k + 1);
  for (let i = 0; i < size; i++) res[i] = (1 - w) * a[i]! + w * b[i]!;
  return res;
}

/**
 * out += w · G·h, G the direction's h_gain applied at every spatial position of h ([C,H,W], C-major):
 * (G·h)[c,p] = Σ_c' G[c,c']·h[c',p]. A no-op for a direction without h_gain.
 */
export function addHGain(d: Direction, h: Float32Array, w: number, out: Float32Array): Float32Array {
  const g = d.hGain;
  if (!g || w === 0) return out;
  const [C, H, W] = d.hspace;
  const P = H * W;
  for (let c = 0; c < C; c++) {
    const o = c * P;
    for (let k = 0; k < C; k++) {
      const gk = w * g[c * C + k]!;
      if (gk === 0) continue;
      const src = k * P;
      for (let p = 0; p < P; p++) out[o + p]! += gk * h[src + p]!;
    }
  }
  return out;
}

export function directionNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => f.slice(0, -'.safetensors'.length))
    .filter((n) => NAME.test(n))
    .sort();
}

export function loadDirection(dir: string, name: string, hspace: readonly [number, number, number]): Direction {
  if (!NAME.test(name)) throw new EngineError('DIRECTION_NOT_FOUND', `"${name}" is not a direction name`, { name });
  const file = join(dir, `${name}.safetensors`);
  if (!existsSync(file)) {
    throw new EngineError('DIRECTION_NOT_FOUND', `direction "${name}" is not installed; installed: ${directionNames(dir).join(', ') || '(none)'}`, { name });
  }
  return decodeDirection(readFileSync(file), file, hspace);
}
