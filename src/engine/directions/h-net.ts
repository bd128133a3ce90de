/**
 * The nonlinear, per-image part of a direction: the paper's f_t(h, t) (docs/method.md §2.1), small. At every
 * position p of h [C,H,W]:
 *
 *   f(h, t)[:, p] = W2 · SiLU((W1 ⋆ h)[:, p] + b1 + Wt · e(t))
 *
 * W1 ⋆ h a K×K convolution over h's positions (K odd, zero padding, so f has h's size); K = 1 is a per-position
 * product W1 · h[:, p], as the paper's 1×1 convolutions; a kernel of 3 (beyond the paper) lets a position see its
 * neighbours (where the eye is beside it), which a per-position net cannot. e(t) the sinusoidal timestep embedding of DDPM:
 * e = [sin(t·ω_0..ω_{E/2−1}), cos(t·ω_0..ω_{E/2−1})], ω_i = exp(−ln(10000)·i/(E/2)). Stored in a direction file
 * as hnet_w1 [D,C] (K = 1) or [D,C,K,K], hnet_b1 [D], hnet_wt [D,E] (E even) and hnet_w2 [C,D]; made by
 * tools/asyrp_tools/hnet.py (which folds its normalization of h into W1). Like h_gain, it reads h of the
 * generation's previous step.
 */
import { EngineError } from '../errors.js';
import type { StoredTensor } from './safetensors.js';

export interface HNet {
  /** Hidden units D and embedding size E. */
  readonly hidden: number;
  readonly embed: number;
  /** K of W1's K×K kernel, odd; absent: 1 (per position). */
  readonly kernel?: number;
  /** [D·C·K·K], [D], [D·E], [C·D], row-major. */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly wt: Float32Array;
  readonly w2: Float32Array;
}

export const H_NET_TENSORS = ['hnet_w1', 'hnet_b1', 'hnet_wt', 'hnet_w2'] as const;

/** The h-net a file's tensors hold, or undefined when it has none; channels: C of this model's h-space. */
export function decodeHNet(tensors: ReadonlyMap<string, StoredTensor>, file: string, channels: number): HNet | undefined {
  const present = H_NET_TENSORS.filter((k) => tensors.has(k));
  if (present.length === 0) return undefined;
  if (present.length !== H_NET_TENSORS.length) {
    const missing = H_NET_TENSORS.filter((k) => !tensors.has(k));
    throw new EngineError('DIRECTION_INVALID', `${file}: an h-net needs ${H_NET_TENSORS.join(', ')}; missing ${missing.join(', ')}`, { file });
  }
  const [w1, b1, wt, w2] = H_NET_TENSORS.map((k) => {
    const t = tensors.get(k)!;
    if (t.dtype !== 'F32') throw new EngineError('DIRECTION_INVALID', `${file}: ${k} must be float32; got ${t.dtype}`, { file });
    return t;
  }) as [StoredTensor, StoredTensor, StoredTensor, StoredTensor];
  const D = w1.shape[0] ?? 0;
  const E = wt.shape[1] ?? 0;
  // W1 [D,C] or [D,C,K,K] with K odd: a K×K kernel over h's positions.
  const K = w1.shape.length === 4 ? (w1.shape[2] ?? 0) : 1;
  const fits =
    (w1.shape.length === 2 || (w1.shape.length === 4 && w1.shape[3] === K && K >= 1 && K % 2 === 1)) && D >= 1 &&
    b1.shape.length === 1 && b1.shape[0] === D &&
    wt.shape.length === 2 && wt.shape[0] === D && E >= 2 && E % 2 === 0 &&
    w2.shape.length === 2 && w2.shape[0] === w1.shape[1] && w2.shape[1] === D;
  const shapes = `w1 [${w1.shape.join(',')}], b1 [${b1.shape.join(',')}], wt [${wt.shape.join(',')}], w2 [${w2.shape.join(',')}]`;
  if (!fits) throw new EngineError('DIRECTION_INVALID', `${file}: h-net shapes do not fit together: ${shapes} (need [D,C] or [D,C,K,K] with K odd, [D], [D,E] with E even, [C,D])`, { file });
  if (w1.shape[1] !== channels) {
    throw new EngineError('MODEL_MISMATCH', `${file}: the h-net is for ${w1.shape[1]} channels but this model's h-space has ${channels}`, { file, expected: channels });
  }
  const net: HNet = { hidden: D, embed: E, ...(K > 1 ? { kernel: K } : {}), w1: w1.data as Float32Array, b1: b1.data as Float32Array, wt: wt.data as Float32Array, w2: w2.data as Float32Array };
  for (const k of ['w1', 'b1', 'wt', 'w2'] as const) {
    if (!net[k].every(Number.isFinite)) throw new EngineError('DIRECTION_INVALID', `${file}: hnet_${k} holds NaN or infinite values`, { file });
  }
  return net;
}

/** The file's tensors for an h-net of `channels` channels. */
export function encodeHNet(net: HNet, channels: number): Record<(typeof H_NET_TENSORS)[number], StoredTensor> {
  const K = net.kernel ?? 1;
  return {
    hnet_w1: { dtype: 'F32', shape: K === 1 ? [net.hidden, channels] : [net.hidden, channels, K, K], data: net.w1 },
    hnet_b1: { dtype: 'F32', shape: [net.hidden], data: net.b1 },
    hnet_wt: { dtype: 'F32', shape: [net.hidden, net.embed], data: net.wt },
    hnet_w2: { dtype: 'F32', shape: [channels, net.hidden], data: net.w2 },
  };
}

/** e(t) as above, in float64 (tools/asyrp_tools/hnet.py computes it the same way, then rounds to float32). */
export function timestepEmbedding(t: number, size: number): Float32Array {
  const half = size / 2;
  const e = new Float32Array(size);
  for (let i = 0; i < half; i++) {
    const a = t * Math.exp((-Math.log(10000) * i) / half);
    e[i] = Math.sin(a);
    e[half + i] = Math.cos(a);
  }
  return e;
}

/** The hidden units' bias at timestep t, b1 + Wt · e(t) [D]: summed in float64, rounded to float32 once. */
export function hNetBias(net: HNet, t: number): Float32Array {
  const { hidden: D, embed: E } = net;
  const e = timestepEmbedding(t, E);
  const bias = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    let b = net.b1[d]!;
    for (let k = 0; k < E; k++) b += net.wt[d * E + k]! * e[k]!;
    bias[d] = b;
  }
  return bias;
}

/**
 * out += w · f(h, t), h and out [C,H,W] channel-major.
 *
 * It runs for every sample at every edited step, between UNet calls (2·D·C·H·W multiply-adds for a per-position
 * net: 2.1 M for toyfaces-32's; K² times that in W1 for a K×K kernel), so both products go eight rows at a time:
 * one pass over a position row reads eight input rows and writes the output row once, instead of eight
 * read-modify-write passes, and the hidden activations are float32 as in tools/asyrp_tools/hnet.py, so both
 * products run on one array type. 2.6-2.8× faster in V8 (52-84 → 19-32 ms per batch of 16 on the 2-core VM); the
 * sums are the same terms in another grouping (outputs within 2e-6 of the one-row-at-a-time loop). The engine
 * evaluates nets by onnxruntime (src/engine/onnx/h-net-session.ts); this is their definition and the fallback.
 */
export function addHNet(net: HNet, h: Float32Array, t: number, w: number, hspace: readonly [number, number, number], out: Float32Array): Float32Array {
  if (w === 0) return out;
  const [C, H, W] = hspace;
  const P = H * W;
  const { hidden: D, w1, w2 } = net;
  const K = net.kernel ?? 1;
  const bias = hNetBias(net, t);
  // Hidden activations [D,P]: z = W1 ⋆ h + b1 + Wt·e(t) (the bias shared by every position), then SiLU(z) = z·σ(z).
  // A K×K kernel reads h through its K² shifted copies (shifted below), so both cases are one blocked product.
  const src = K === 1 ? h : shifted(h, C, K, H, W);
  const n = C * K * K;
  const a = new Float32Array(D * P);
  for (let d = 0; d < D; d++) {
    const row = d * P;
    a.fill(bias[d]!, row, row + P);
    addRows(a, row, src, w1, d * n, 1, n, P);
    for (let p = row; p < row + P; p++) a[p] = a[p]! / (1 + Math.exp(-a[p]!));
  }
  for (let c = 0; c < C; c++) addRows(out, c * P, a, w2, c * D, w, D, P);
  return out;
}

/**
 * h's K² shifted copies as rows [(c·K² + ky·K + kx)·P + y·W + x] = h[c, y + ky − K/2, x + kx − K/2], zero where
 * that falls outside h (the convolution's "same" padding, as torch's conv2d with padding K/2 and onnxruntime's
 * Conv with those pads): row c·K² + tap lines up with W1[d, c, tap], so W1 ⋆ h is the per-position product
 * over C·K² rows.
 */
function shifted(h: Float32Array, C: number, K: number, H: number, W: number): Float32Array {
  const r = (K - 1) / 2;
  const P = H * W;
  const out = new Float32Array(C * K * K * P);
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < K; ky++) {
      const dy = ky - r;
      const y0 = Math.max(0, -dy), y1 = Math.min(H, H - dy);
      for (let kx = 0; kx < K; kx++) {
        const dx = kx - r;
        const x0 = Math.max(0, -dx), x1 = Math.min(W, W - dx);
        const at = ((c * K + ky) * K + kx) * P;
        for (let y = y0; y < y1; y++) {
          const from = c * P + (y + dy) * W + dx;
          out.set(h.subarray(from + x0, from + x1), at + y * W + x0);
        }
      }
    }
  }
  return out;
}

/** dst[at .. at+P) += scale · Σ_k weights[from + k] · src[k·P .. k·P+P), for k < n; eight source rows per pass. */
function addRows(dst: Float32Array, at: number, src: Float32Array, weights: Float32Array, from: number, scale: number, n: number, P: number): void {
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const q = from + k;
    const k0 = scale * weights[q]!, k1 = scale * weights[q + 1]!, k2 = scale * weights[q + 2]!, k3 = scale * weights[q + 3]!;
    const k4 = scale * weights[q + 4]!, k5 = scale * weights[q + 5]!, k6 = scale * weights[q + 6]!, k7 = scale * weights[q + 7]!;
    const s0 = k * P, s1 = s0 + P, s2 = s1 + P, s3 = s2 + P, s4 = s3 + P, s5 = s4 + P, s6 = s5 + P, s7 = s6 + P;
    for (let p = 0; p < P; p++) {
      dst[at + p]! += k0 * src[s0 + p]! + k1 * src[s1 + p]! + k2 * src[s2 + p]! + k3 * src[s3 + p]! +
        k4 * src[s4 + p]! + k5 * src[s5 + p]! + k6 * src[s6 + p]! + k7 * src[s7 + p]!;
    }
  }
  for (; k < n; k++) {
    const kk = scale * weights[from + k]!;
    const s0 = k * P;
    for (let p = 0; p < P; p++) dst[at + p]! += kk * src[s0 + p]!;
  }
}
