/**
 * A direction's h-net (f(h, t) = W2 · SiLU(W1 ⋆ h + b1 + Wt · e(t)), h-net.ts) evaluated by onnxruntime:
 * a tiny graph built in memory per net, whose two products are MatMuls (MLAS: SIMD, the session's
 * intra-op threads) instead of the JavaScript loops of addHNet, which ran on one core while onnxruntime's
 * threads waited (6.0 s of the inference worker's 43 s in a profile of bench load; every tick's Δh needs
 * the previous tick's h, so it is on the critical path).
 *
 *   per position (K = 1):  h [N, C, P], bias [N, D, 1]  ->  z = W1 · h + bias,  a = z · σ(z),  f = W2 · a  [N, C, P]
 *   K×K kernel:  h [N, C, H, W], bias [N, D, 1, 1]  ->  z = Conv(h, W1, pads K/2) + bias, a as above,
 *                f = Conv(a, W2 as [C, D, 1, 1])  [N, C, H, W]  (the same values, laid out as h)
 *
 * N rows (the batch's rows that use this net, one call per net and tick), P = H·W positions; the bias
 * b1 + Wt · e(t_r) per row is computed here (D·E multiply-adds, h-net.ts hNetBias) since it depends only on t.
 * The sums run in float32 in onnxruntime's order, not addHNet's: f agrees within a few float32 ulps of
 * the sums (test/engine/h-net-session.test.ts), and the worker and inline run this same code.
 */
import * as ort from 'onnxruntime-node';
import { EngineError, asEngineError } from '../errors.js';
import { hNetBias, type HNet } from '../directions/h-net.js';
import { checkHNetRows, type HNetRows } from '../directions/h-net-rows.js';
import { encodeOnnxModel } from './onnx-proto.js';

/** The h-net graph of `net` for an h-space of `channels` channels, serialized. */
export function hNetModel(net: HNet, channels: number): Uint8Array {
  const { hidden: D } = net;
  const K = net.kernel ?? 1;
  if (K > 1) {
    const r = (K - 1) / 2;
    return encodeOnnxModel({
      name: 'h_net',
      nodes: [
        { op: 'Conv', inputs: ['h', 'w1'], outputs: ['w1h'], attributes: { pads: [r, r, r, r] } },
        { op: 'Add', inputs: ['w1h', 'bias'], outputs: ['z'] },
        { op: 'Sigmoid', inputs: ['z'], outputs: ['sz'] },
        { op: 'Mul', inputs: ['z', 'sz'], outputs: ['a'] },
        { op: 'Conv', inputs: ['a', 'w2'], outputs: ['f'] },
      ],
      initializers: [
        { name: 'w1', dims: [D, channels, K, K], data: net.w1 },
        { name: 'w2', dims: [channels, D, 1, 1], data: net.w2 },
      ],
      inputs: [
        { name: 'h', dims: ['rows', channels, 'height', 'width'] },
        { name: 'bias', dims: ['rows', D, 1, 1] },
      ],
      outputs: [{ name: 'f', dims: ['rows', channels, 'height', 'width'] }],
    });
  }
  return encodeOnnxModel({
    name: 'h_net',
    nodes: [
      { op: 'MatMul', inputs: ['w1', 'h'], outputs: ['w1h'] },
      { op: 'Add', inputs: ['w1h', 'bias'], outputs: ['z'] },
      { op: 'Sigmoid', inputs: ['z'], outputs: ['sz'] },
      { op: 'Mul', inputs: ['z', 'sz'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['w2', 'a'], outputs: ['f'] },
    ],
    initializers: [
      { name: 'w1', dims: [D, channels], data: net.w1 },
      { name: 'w2', dims: [channels, D], data: net.w2 },
    ],
    inputs: [
      { name: 'h', dims: ['rows', channels, 'positions'] },
      { name: 'bias', dims: ['rows', D, 1] },
    ],
    outputs: [{ name: 'f', dims: ['rows', channels, 'positions'] }],
  });
}

export interface HNetSessionOptions {
  /** onnxruntime intraOpNumThreads, as the graph's own session; 0 leaves it to onnxruntime. */
  readonly intraOpThreads: number;
}

/** One net's session. CPU always: h and Δh live in host memory, and a GPU would only add two copies. */
export class HNetSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly net: HNet,
    readonly channels: number,
  ) {}

  static async open(net: HNet, channels: number, opts: HNetSessionOptions): Promise<HNetSession> {
    try {
      const session = await ort.InferenceSession.create(hNetModel(net, channels), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
        // Its threads sleep as soon as a run ends instead of spinning: the UNet call that follows at once
        // wants the same cores, and spinning threads took ~20 ms of it (one batch-16 tick on the 2-core VM:
        // UNet 111-116 ms after a spinning h-net call, 87-89 ms after a sleeping one, 90-92 ms without a net).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return new HNetSession(session, net, channels);
    } catch (e) {
      throw asEngineError(e, 'INFERENCE_FAILED', 'the h-net graph did not load in onnxruntime');
    }
  }

  /** f(h_r, t_r) for N rows: h [N·C·H·W], ts [N], grid [H, W] of h's positions; returns [N·C·H·W]. */
  async f(h: Float32Array, ts: readonly number[], grid: readonly [number, number]): Promise<Float32Array> {
    const N = ts.length;
    const { hidden: D } = this.net;
    const bias = new Float32Array(N * D);
    ts.forEach((t, r) => bias.set(hNetBias(this.net, t), r * D));
    const conv = (this.net.kernel ?? 1) > 1;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run({
        h: new ort.Tensor('float32', h, conv ? [N, this.channels, grid[0], grid[1]] : [N, this.channels, grid[0] * grid[1]]),
        bias: new ort.Tensor('float32', bias, conv ? [N, D, 1, 1] : [N, D, 1]),
      });
    } catch (e) {
      throw asEngineError(e, 'INFERENCE_FAILED', 'onnxruntime h-net run failed');
    }
    const f = out.f?.data;
    if (!(f instanceof Float32Array) || f.length !== h.length) throw new EngineError('INFERENCE_FAILED', 'the h-net graph returned no float32 f of h\'s size');
    return f;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The h-net rows added into deltaH as addHNetRows does, each net evaluated once for all the rows that use it
 * (in the order the nets first appear), by its session from `sessionOf`.
 */
export async function addHNetRowsOrt<N extends HNet>(
  batch: HNetRows<N>,
  deltaH: Float32Array,
  hspace: readonly [number, number, number],
  sessionOf: (net: N) => Promise<HNetSession>,
): Promise<void> {
  checkHNetRows(batch, deltaH, hspace);
  const size = hspace[0] * hspace[1] * hspace[2];
  const uses = new Map<N, { i: number; row: number; t: number; weight: number }[]>();
  batch.rows.forEach((r, i) => {
    for (const term of r.terms) {
      if (term.weight === 0) continue;
      let list = uses.get(term.net);
      if (!list) uses.set(term.net, (list = []));
      list.push({ i, row: r.row, t: r.t, weight: term.weight });
    }
  });
  for (const [net, list] of uses) {
    const session = await sessionOf(net);
    // Every row in order (one direction's net, the usual case): batch.h as it is, without a copy.
    const all = list.length === batch.rows.length && list.every((u, k) => u.i === k);
    const h = all ? batch.h : new Float32Array(list.length * size);
    if (!all) list.forEach((u, k) => h.set(batch.h.subarray(u.i * size, (u.i + 1) * size), k * size));
    const f = await session.f(h, list.map((u) => u.t), [hspace[1], hspace[2]]);
    list.forEach((u, k) => {
      const out = deltaH.subarray(u.row * size, (u.row + 1) * size);
      const fk = f.subarray(k * size, (k + 1) * size);
      for (let j = 0; j < size; j++) out[j]! += u.weight * fk[j]!;
    });
  }
}
