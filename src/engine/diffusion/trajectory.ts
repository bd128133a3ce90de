/**
 * Per-sample trajectories as step-wise state machines. A trajectory says what UNet evaluation it needs
 * next (request) and takes the result (advance); it never calls the model itself. That lets one driver
 * run a single edit, and the engine service batch many users' samples into one UNet call per tick, each
 * with its own t and Δh (continuous batching).
 */
import type { HNetTerm } from '../directions/h-net-rows.js';
import { alphaBarAt } from './schedule.js';
import { asyrpStep, predictX0 } from './ddim-step.js';

export type Phase = 'inversion' | 'editing' | 'denoising' | 'boosting';

export interface UNetRequest {
  /** x_t of one sample, [3·R·R]. */
  readonly x: Float32Array;
  readonly t: number;
  /** Δh_t for this sample, [C·H·W], or null for an unedited evaluation (without the hNets terms). */
  readonly deltaH: Float32Array | null;
  /**
   * Terms of Δh_t still to add, w·f(h, t) of directions' h-nets, and the h they read (the sample's h of
   * its previous step): evaluated where the UNet runs (batch-runner.ts). Absent when there are none.
   */
  readonly hNets?: { readonly h: Float32Array; readonly terms: readonly HNetTerm[] };
}

/**
 * Δh_t of one sample in two parts: `fixed`, summed before the UNet call (the per-timestep Δh_i(t) and
 * the h-gain terms), and the h-net terms, which read h of the previous step and are left to the UNet.
 */
export interface DeltaHParts {
  readonly fixed: Float32Array;
  readonly hNets: readonly HNetTerm[];
}

export interface UNetResult {
  readonly eps: Float32Array;
  /** ε̃ with h + Δh_t in place of the bottleneck; present exactly when the request had a Δh. */
  readonly epsEdit: Float32Array | null;
  /** The bottleneck h for this sample (direction learning reads it). */
  readonly h: Float32Array;
}

export interface Trajectory {
  readonly phase: Phase;
  /** Model evaluations done so far, and in all. */
  readonly step: number;
  readonly totalSteps: number;
  readonly done: boolean;
  /** The current sample: x_t while running, the result when done. */
  readonly x: Float32Array;
  request(): UNetRequest;
  advance(result: UNetResult): void;
}

/**
 * Called at each evaluated timestep with h, ε and the x_t they were computed on, before x moves on
 * (direction learning records trajectories of h and how much P_t has lost).
 */
export type HObserver = (t: number, h: Float32Array, eps: Float32Array, x: Float32Array) => void;

/**
 * Deterministic DDIM inversion (docs/method.md §1.6): n − 1 steps from t = seq[0] = 0 up to seq[n−1],
 * each x_{t'} = √ᾱ_{t'}·P_t(ε) + √(1−ᾱ_{t'})·ε with ε = ε_θ(x_t, t) at the lower timestep.
 *
 * With `refine` > 0 each step re-evaluates ε at the current guess of x_{t'} that many times (fixed-point
 * iteration, as in AIDI, Pan et al. 2023, and ReNoise, Garibi et al. 2024). Generation undoes the step
 * with ε_θ(x_{t'}, t'), not ε_θ(x_t, t); the iteration makes the two agree, so generating from x_T
 * returns the image almost exactly (toyfaces-32: 35 dB → 48 dB, docs/research/directions.md). Cost: (n − 1)·(1 +
 * refine) evaluations. Observers see h and ε of the first evaluation of each step, at x_t.
 */
export class InversionTrajectory implements Trajectory {
  readonly phase: Phase = 'inversion';
  readonly x: Float32Array;
  private k = 1;
  /** Evaluations done within the current step: 0 at x_t, then 1..refine at the guess of x_{t'}. */
  private j = 0;
  private readonly next: Float32Array;

  constructor(
    x0: Float32Array,
    private readonly seq: readonly number[],
    private readonly alphasBar: Float64Array,
    private readonly onH?: HObserver,
    private readonly refine = 0,
  ) {
    if (!Number.isInteger(refine) || refine < 0) throw new Error(`inversion refinement must be a whole number >= 0; got ${refine}`);
    this.x = Float32Array.from(x0);
    this.next = new Float32Array(x0.length);
  }

  get step(): number {
    return (this.k - 1) * (1 + this.refine) + this.j;
  }
  get totalSteps(): number {
    return (this.seq.length - 1) * (1 + this.refine);
  }
  get done(): boolean {
    return this.k >= this.seq.length;
  }

  request(): UNetRequest {
    if (this.done) throw new Error('inversion is already complete');
    return this.j === 0 ? { x: this.x, t: this.seq[this.k - 1]!, deltaH: null } : { x: this.next, t: this.seq[this.k]!, deltaH: null };
  }

  advance(result: UNetResult): void {
    const t = this.seq[this.k - 1]!;
    const tNext = this.seq[this.k]!;
    if (this.j === 0) this.onH?.(t, result.h, result.eps, this.x);
    const params = { alphaBar: alphaBarAt(this.alphasBar, t), alphaBarNext: alphaBarAt(this.alphasBar, tNext), eta: 0 };
    // Always from x_t: the guess of x_{t'} only supplies ε.
    asyrpStep(this.next, this.x, result.eps, null, params, null);
    if (this.j < this.refine) {
      this.j++;
      return;
    }
    this.x.set(this.next);
    this.j = 0;
    this.k++;
  }
}

export interface GenerationOptions {
  /** Editing phase: t ≥ tEdit uses ε̃ for P_t (paper Eq. 9). */
  readonly tEdit: number;
  /** Quality boosting: t < tBoost uses η = 1 (0 turns it off). */
  readonly tBoost: number;
  /**
   * Δh_t for the sample at timestep t (whole, or in parts whose h-net terms the UNet adds), or null when
   * nothing is edited. hPrev is h of this generation's previous step (null at the first): h-dependent
   * directions read it (direction-file.ts); h-net terms are only returned with an hPrev.
   */
  readonly deltaHAt: (t: number, hPrev: Float32Array | null) => Float32Array | DeltaHParts | null;
  /** Fills standard-normal noise for boosting steps (seeded by the caller). */
  readonly noise: (out: Float32Array) => Float32Array;
  readonly onH?: HObserver;
  /** Keep P_t of the last step (the predicted x0, for progress previews). */
  readonly trackX0?: boolean;
}

/**
 * The asymmetric reverse process: n evaluations from t = seq[n−1] down, the last going to t' = −1
 * (ᾱ = 1, so σ = 0 and the output is exactly P_0). Three intervals (docs/method.md §1.5): editing
 * (t ≥ tEdit, η = 0), denoising (tBoost ≤ t < tEdit, η = 0), quality boosting (t < tBoost, η = 1).
 */
export class GenerationTrajectory implements Trajectory {
  readonly x: Float32Array;
  /** P_t(ε̃) of the last step when trackX0 is set; null before the first step. */
  lastX0: Float32Array | null = null;
  private k: number;
  /**
   * h of the previous step. An h-dependent Δh_t reads this one rather than h at the current x_t, which
   * the graph only computes in the same call that takes Δh_t: a second UNet evaluation per editing step
   * would add up to 70 % to generation (28 editing steps of 40 at tEdit 300), and h moves little between
   * neighbouring steps. The optimizer trains with the same one-step lag
   * (tools/asyrp_tools/optimize_final.py), so it is what was measured.
   */
  private hPrev: Float32Array | null = null;
  private readonly noiseBuf: Float32Array;

  constructor(
    xT: Float32Array,
    private readonly seq: readonly number[],
    private readonly alphasBar: Float64Array,
    private readonly opts: GenerationOptions,
  ) {
    this.x = Float32Array.from(xT);
    this.k = seq.length - 1;
    this.noiseBuf = new Float32Array(xT.length);
  }

  get step(): number {
    return this.seq.length - 1 - this.k;
  }
  get totalSteps(): number {
    return this.seq.length;
  }
  get done(): boolean {
    return this.k < 0;
  }

  private get t(): number {
    return this.seq[this.k]!;
  }

  private deltaH(): Float32Array | DeltaHParts | null {
    return this.t >= this.opts.tEdit ? this.opts.deltaHAt(this.t, this.hPrev) : null;
  }

  get phase(): Phase {
    if (this.done) return this.opts.tBoost > 0 ? 'boosting' : 'denoising';
    if (this.t >= this.opts.tEdit && this.opts.deltaHAt(this.t, this.hPrev)) return 'editing';
    return this.t < this.opts.tBoost ? 'boosting' : 'denoising';
  }

  request(): UNetRequest {
    if (this.done) throw new Error('generation is already complete');
    const d = this.deltaH();
    if (d === null || d instanceof Float32Array) return { x: this.x, t: this.t, deltaH: d };
    if (d.hNets.length === 0 || !this.hPrev) return { x: this.x, t: this.t, deltaH: d.fixed };
    return { x: this.x, t: this.t, deltaH: d.fixed, hNets: { h: this.hPrev, terms: d.hNets } };
  }

  advance(result: UNetResult): void {
    const t = this.t;
    const tNext = this.k > 0 ? this.seq[this.k - 1]! : -1;
    this.opts.onH?.(t, result.h, result.eps, this.x);
    // A copy: the result's arrays are views of a batch buffer the next call may reuse.
    if (this.hPrev === null) this.hPrev = Float32Array.from(result.h);
    else this.hPrev.set(result.h);
    const eta = t < this.opts.tBoost ? 1 : 0;
    const params = { alphaBar: alphaBarAt(this.alphasBar, t), alphaBarNext: alphaBarAt(this.alphasBar, tNext), eta };
    // Draw noise only for steps whose σ > 0, so the noise stream (and the fixtures) skip the final step.
    const needsNoise = eta > 0 && tNext !== -1;
    if (this.opts.trackX0) {
      this.lastX0 ??= new Float32Array(this.x.length);
      predictX0(this.lastX0, this.x, result.epsEdit ?? result.eps, params.alphaBar);
    }
    asyrpStep(this.x, this.x, result.eps, result.epsEdit, params, needsNoise ? this.opts.noise(this.noiseBuf) : null);
    this.k--;
  }
}
