/**
 * Drives trajectories through a UNet, one batched call per tick. Samples that need an edited epsilon go
 * first, because the model computes ε̃ for the first E samples of the batch (E = number of Δh rows).
 */
import type { Trajectory, UNetResult } from './trajectory.js';

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
   * x: [B·3·R·R], t: [B], deltaH: [E·C·H·W] for the first E samples. The arrays are handed over: the
   * inference worker takes their buffers (transferred, not copied), so a caller builds them per call.
   */
  run(x: Float32Array, t: Float32Array, deltaH: Float32Array, batch: number, edited: number): Promise<UNetOutputs>;
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
  active.forEach((a, i) => {
    x.set(a.req.x, i * sampleSize);
    t[i] = a.req.t;
    if (a.req.deltaH) deltaH.set(a.req.deltaH, i * hSize);
  });
  const out = await unet.run(x, t, deltaH, B, E);
  active.forEach((a, i) => {
    const result: UNetResult = {
      eps: out.eps.subarray(i * sampleSize, (i + 1) * sampleSize),
      epsEdit: i < E ? out.epsEdit.subarray(i * sampleSize, (i + 1) * sampleSize) : null,
      h: out.h.subarray(i * hSize, (i + 1) * hSize),
    };
    a.tr.advance(result);
  });
}

/** Runs trajectories to completion, calling onTick after each batched step. */
export async function runToCompletion(
  unet: UNet,
  trajectories: readonly Trajectory[],
  onTick?: () => void,
  signal?: AbortSignal,
): Promise<void> {
  while (trajectories.some((tr) => !tr.done)) {
    signal?.throwIfAborted();
    await stepTogether(unet, trajectories);
    onTick?.();
  }
}
