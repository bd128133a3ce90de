/**
 * The h-net part of a batched UNet call's Δh: for some edited rows r of the delta_h feed, Σ_i w_i · f_i(h_r, t_r)
 * is added into row r just before the call, h_r being that sample's h of its previous generation step
 * (h-net.ts). It is kept apart from the rest of Δh_t (the per-timestep Δh_i(t) and the h-gain part, cheap,
 * summed by the edit plan) so that whoever runs the UNet evaluates it: the inference worker, beside its
 * onnxruntime call, or the calling thread in inline mode. This is the costly part of an h-net edit
 * (2·D·C·H·W multiply-adds per row), which had held the engine's event loop ~20 % of the time.
 *
 * Generic over how a net is named: the main thread's rows hold HNet objects, the inference worker's
 * messages hold the ids the weights were loaded under (inference-protocol.ts).
 */
import { EngineError } from '../errors.js';
import { addHNet, type HNet } from './h-net.js';

/** One direction's h-net and the factor its f(h, t) is multiplied by (strength × defaultStrength × step scale). */
export interface HNetTerm<N = HNet> {
  readonly net: N;
  readonly weight: number;
}

/** The terms of one row of delta_h, evaluated at the row's timestep. */
export interface HNetRow<N = HNet> {
  /** Index of the delta_h row (an edited sample's place in the batch). */
  readonly row: number;
  readonly t: number;
  readonly terms: readonly HNetTerm<N>[];
}

export interface HNetRows<N = HNet> {
  /**
   * [rows.length · C·H·W]: h of each listed row's sample, in the order of `rows`. Handed over with the
   * UNet's inputs (the inference worker takes its buffer), so a caller builds it per call.
   */
  readonly h: Float32Array;
  readonly rows: readonly HNetRow<N>[];
}

/**
 * Adds every row's terms into deltaH [E·C·H·W] with the JavaScript definition (h-net.ts). Where onnxruntime
 * is at hand, src/engine/onnx/h-net-session.ts evaluates the same rows with its MatMul instead.
 */
export function addHNetRows(batch: HNetRows, deltaH: Float32Array, hspace: readonly [number, number, number]): void {
  checkHNetRows(batch, deltaH, hspace);
  const size = hspace[0] * hspace[1] * hspace[2];
  batch.rows.forEach((r, i) => {
    const h = batch.h.subarray(i * size, (i + 1) * size);
    const out = deltaH.subarray(r.row * size, (r.row + 1) * size);
    for (const term of r.terms) addHNet(term.net, h, r.t, term.weight, hspace, out);
  });
}

/** Refuses by name a row or an h that does not fit the batch, and a net that does not fit the h-space. */
export function checkHNetRows<N extends HNet>(batch: HNetRows<N>, deltaH: Float32Array, hspace: readonly [number, number, number]): void {
  const size = hspace[0] * hspace[1] * hspace[2];
  const edited = deltaH.length / size;
  if (batch.h.length !== batch.rows.length * size) {
    throw new EngineError('INFERENCE_FAILED', `h-net rows: h holds ${batch.h.length} values; ${batch.rows.length} row(s) of ${size} need ${batch.rows.length * size}`);
  }
  for (const r of batch.rows) {
    if (!Number.isInteger(r.row) || r.row < 0 || r.row >= edited) {
      throw new EngineError('INFERENCE_FAILED', `h-net rows: row ${r.row} is not an edited row of this batch (delta_h has ${edited})`);
    }
    for (const term of r.terms) checkHNetShape(term.net, hspace[0]);
  }
}

/** Checks that a net's weights fit an h-space of `channels` channels (in the worker they arrive as bare arrays). */
export function checkHNetShape(net: HNet, channels: number): void {
  const { hidden: D, embed: E } = net;
  const K = net.kernel ?? 1;
  const fits =
    Number.isInteger(D) && D >= 1 && Number.isInteger(E) && E >= 2 && E % 2 === 0 && Number.isInteger(K) && K >= 1 && K % 2 === 1 &&
    net.w1.length === D * channels * K * K && net.b1.length === D && net.wt.length === D * E && net.w2.length === channels * D;
  if (!fits) {
    throw new EngineError(
      'DIRECTION_INVALID',
      `h-net weights do not fit: D ${D}, E ${E}, K ${K}, C ${channels}; w1 ${net.w1.length}, b1 ${net.b1.length}, wt ${net.wt.length}, w2 ${net.w2.length} values`,
    );
  }
}
