/**
 * One DDIM step with Asyrp's asymmetric split (paper Eq. 9; DDIM Eq. 12; docs/method.md §1.2–1.3):
 *
 *   P_t(ε)  = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t                          predicted x0
 *   σ       = η·√((1−ᾱ_t/ᾱ_t')·(1−ᾱ_t')/(1−ᾱ_t))
 *   x_t'    = √ᾱ_t'·P_t(ε̃) + √(1−ᾱ_t'−σ²)·ε + σ·z
 *
 * ε̃ (the edited epsilon) feeds only the predicted x0; the direction term uses the unedited ε. With
 * ε̃ = ε this is plain DDIM, and run from a lower to a higher t with η = 0 it is DDIM inversion. P_t is
 * never clamped.
 */

export interface StepParams {
  /** ᾱ at the current timestep t. */
  readonly alphaBar: number;
  /** ᾱ at the next timestep t' (1 for t' = −1). */
  readonly alphaBarNext: number;
  /** 0: deterministic DDIM; 1: DDPM-like noise (quality boosting). */
  readonly eta: number;
}

export function ddimSigma({ alphaBar, alphaBarNext, eta }: StepParams): number {
  if (eta === 0) return 0;
  const v = ((1 - alphaBar / alphaBarNext) * (1 - alphaBarNext)) / (1 - alphaBar);
  return eta * Math.sqrt(Math.max(0, v));
}

/**
 * Writes x_t' into `out` (which may alias `x`). `epsEdit` null means unedited; `noise` is required when
 * σ > 0 and ignored otherwise.
 */
export function asyrpStep(
  out: Float32Array,
  x: Float32Array,
  eps: Float32Array,
  epsEdit: Float32Array | null,
  params: StepParams,
  noise: Float32Array | null,
): void {
  const { alphaBar, alphaBarNext } = params;
  const sigma = ddimSigma(params);
  if (sigma > 0 && !noise) throw new Error('asyrpStep: σ > 0 needs a noise tensor');
  const sqrtAb = Math.sqrt(alphaBar);
  const sqrtOneMinusAb = Math.sqrt(1 - alphaBar);
  const sqrtAbNext = Math.sqrt(alphaBarNext);
  const dirCoef = Math.sqrt(Math.max(0, 1 - alphaBarNext - sigma * sigma));
  const e0 = epsEdit ?? eps;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const x0 = (x[i]! - sqrtOneMinusAb * e0[i]!) / sqrtAb;
    let v = sqrtAbNext * x0 + dirCoef * eps[i]!;
    if (sigma > 0) v += sigma * noise![i]!;
    out[i] = v;
  }
}

/** P_t(ε), the predicted x0, into `out` (used for previews and by direction learning). */
export function predictX0(out: Float32Array, x: Float32Array, eps: Float32Array, alphaBar: number): void {
  const a = Math.sqrt(alphaBar);
  const b = Math.sqrt(1 - alphaBar);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - b * eps[i]!) / a;
}
