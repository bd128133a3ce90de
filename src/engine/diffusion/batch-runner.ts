/**
 * The one sampler driver: every inversion and generation trajectory in the engine is advanced by
 * stepTogether, one batched UNet call per tick, whoever holds it: runToCompletion below (the pipeline's
 * edits, eval, generate, learn, bench) or the engine service's worker, which calls stepTogether itself
 * so that jobs can join and leave the batch between ticks. Samples that need an edited epsilon go first,
 * because the model computes ε̃ for the first E samples of the batch (E = number of Δh rows).
 *
 * A sample whose Δh_t has h-net terms (a direction's f_t(h), which reads the sample's h of its previous
 * step) hands them to the UNet with that h instead of evaluating them here: the UNet adds them into its
 * delta_h row where it runs (the inference worker, off the engine's event loop; or this thread inline).
 */
import type { HNetRow, HNetRows } from '../directions/h-net-rows.js';
import type { Phase, Trajectory, UNetResult } from './trajectory.js';

export interface UNetOutputs {
  /** [B·3·R·R] */
  readonly eps: Float32Array;
  /** [E·3·R·R] */
  readonly epsEdit: Float32Array;
  /** [B·C·H·W] */
  readonly h: Float32Array;
}

/** The engine's view of a model's UNet: batched, with per-sample timesteps. */
export interface UNet {
  /** Floats in one sample x (3·R·R). */
  readonly sampleSize: number;
  /** Floats in one h (C·H·W). */
  readonly hSize: number;
  /**
   * x: [B·3·R·R], t: [B], deltaH: [E·C·H·W] for the first E samples; hNets: terms w·f(h, t) to add into
   * some of those rows before the call (h-net-rows.ts). The arrays are handed over: the inference worker
   * takes their buffers (transferred, not copied), so a caller builds them per call.
   */
  run(x: Float32Array, t: Float32Array, deltaH: Float32Array, batch: number, edited: number, hNets?: HNetRows): Promise<UNetOutputs>;
}

/** Advances every unfinished trajectory by one step with a single UNet call. */
export async function stepTogether(unet: UNet, trajectories: readonly Trajectory[]): Promise<void> {
  const active = trajectories.filter((tr) => !tr.done).map((tr) => ({ tr, req: tr.request() }));
  if (active.length === 0) return;
  active.sort((a, b) => Number(b.req.deltaH !== null) - Number(a.req.deltaH !== null));
  const B = active.length;
  const E = active.filter((a) => a.req.deltaH !== null).length;
  const { sampleSize, hSize } = unet;
  const x = new Float32Array(B * sampleSize);
  const t = new Float32Array(B);
  const deltaH = new Float32Array(E * hSize);
  const withNets = active.filter((a) => a.req.deltaH !== null && a.req.hNets !== undefined).length;
  const h = new Float32Array(withNets * hSize);
  const rows: HNetRow[] = [];
  active.forEach((a, i) => {
    x.set(a.req.x, i * sampleSize);
    t[i] = a.req.t;
    if (a.req.deltaH) deltaH.set(a.req.deltaH, i * hSize);
    if (a.req.deltaH && a.req.hNets) {
      h.set(a.req.hNets.h, rows.length * hSize);
      rows.push({ row: i, t: a.req.t, terms: a.req.hNets.terms });
    }
  });
  const out = await unet.run(x, t, deltaH, B, E, rows.length > 0 ? { h, rows } : undefined);
  active.forEach((a, i) => {
    const result: UNetResult = {
      eps: out.eps.subarray(i * sampleSize, (i + 1) * sampleSize),
      epsEdit: i < E ? out.epsEdit.subarray(i * sampleSize, (i + 1) * sampleSize) : null,
      h: out.h.subarray(i * hSize, (i + 1) * hSize),
    };
    a.tr.advance(result);
  });
}

export interface RunOptions {
  /** After each batched step: the phase the step was in (of the first unfinished trajectory) and its time. */
  readonly onStep?: (step: { readonly phase: Phase; readonly ms: number }) => void;
  /** Checked before every step. */
  readonly signal?: AbortSignal;
}

/** Runs trajectories to completion, one batched step at a time. */
export async function runToCompletion(unet: UNet, trajectories: readonly Trajectory[], opts: RunOptions = {}): Promise<void> {
  for (;;) {
    const lead = trajectories.find((tr) => !tr.done);
    if (!lead) return;
    opts.signal?.throwIfAborted();
    const phase = lead.phase;
    const start = performance.now();
    await stepTogether(unet, trajectories);
    opts.onStep?.({ phase, ms: performance.now() - start });
  }
}
