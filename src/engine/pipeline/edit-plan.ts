/**
 * Turns a parsed recipe into what the sampler needs: step counts, t_edit, t_boost, the seed, and the
 * combined Δh_t = Σ s_i · d_i · Δh_i(t) (s_i the typed strength, 1 when omitted; d_i the direction's
 * defaultStrength, 1 when absent). Asyrp's linearity in h-space (docs/method.md §2.4) is what makes the sum
 * meaningful. A direction with an h-dependent part adds s_i · d_i · G_i·h and s_i · d_i · f_i(h, t), h the
 * bottleneck the generation computed at its previous step (direction-file.ts, h-net.ts). The sampler takes
 * Δh_t in parts (deltaHPartsAt): the f_i terms, the costly ones, are evaluated where the UNet runs.
 * A direction that names its negative side (metadata "negative", e.g. smile → frown) is replaced by that
 * direction at |s_i| when s_i < 0.
 */
import { EngineError } from '../errors.js';
import { addHGain, directionAt, type Direction } from '../directions/direction-file.js';
import { addHNet } from '../directions/h-net.js';
import type { HNetTerm } from '../directions/h-net-rows.js';
import type { DeltaHParts } from '../diffusion/trajectory.js';
import type { Recipe } from '../recipe/parse-recipe.js';
import type { ModelManifest } from '../model/model-manifest.js';

export interface PlannedTerm {
  readonly direction: Direction;
  readonly strength: number;
  /** strength × defaultStrength: the factor Δh_i is multiplied by. */
  readonly weight: number;
  /** The direction the recipe named, when this term runs its negative side instead (smile for frown). */
  readonly negativeOf?: string;
}

export interface EditPlan {
  readonly inversionSteps: number;
  /** Fixed-point refinements per inversion step (the model's default). */
  readonly inversionRefinement: number;
  readonly generationSteps: number;
  readonly tEdit: number;
  readonly tBoost: number;
  readonly seed: number;
  readonly terms: readonly PlannedTerm[];
  /** Whether Δh_t depends on h (some direction has an h_gain or an h-net). */
  readonly hDependent: boolean;
  /**
   * Δh_t for one sample, whole, evaluated on the calling thread, or null when the recipe edits nothing
   * (or every weight is 0). hPrev: h of the previous generation step (null at the first), read only by
   * h-dependent directions.
   */
  deltaHAt(t: number, hPrev?: Float32Array | null): Float32Array | null;
  /**
   * The same Δh_t in parts, for the sampler: Σ s_i·d_i·(Δh_i(t) + G_i·h) summed here, and the terms
   * s_i·d_i·f_i(h, t) (with hPrev only) left to whoever runs the UNet (batch-runner.ts).
   */
  deltaHPartsAt(t: number, hPrev?: Float32Array | null): DeltaHParts | null;
  /**
   * The same recipe with every strength multiplied by s (a sweep's samples): Δh_t × s, except that a
   * term whose sign turns negative runs its direction's negative side where it names one.
   */
  scaled(s: number): EditPlan;
}

export const DEFAULT_SEED = 0;

export function planEdit(manifest: ModelManifest, recipe: Recipe, getDirection: (name: string) => Direction): EditPlan {
  const terms: PlannedTerm[] = recipe.terms.map((term) => {
    if (term.preset) throw new EngineError('RECIPE_UNKNOWN_DIRECTION', `"${term.name}" is a preset; resolve presets before planning an edit`, { name: term.name });
    const named = getDirection(term.name);
    const asked = term.strength ?? 1;
    if (asked < 0 && named.meta.negative) {
      const direction = negativeSide(named, getDirection);
      return { direction, strength: -asked, weight: -asked * (direction.meta.defaultStrength ?? 1), negativeOf: term.name };
    }
    return { direction: named, strength: asked, weight: asked * (named.meta.defaultStrength ?? 1) };
  });
  // Several directions: the edit runs over the union of their intervals (the lowest tEdit), and each
  // direction acts only where it was made to act (t ≥ its own tEdit), so mixing a late-acting direction
  // (smile, tEdit 300) with an early one (glasses, 614) neither cuts the first short nor stretches the
  // second past its range. tBoost comes from the direction with the longest interval. A t_edit in the
  // recipe overrides all of them.
  const lead = terms.filter((t) => t.direction.meta.tEdit !== undefined).sort((a, b) => a.direction.meta.tEdit! - b.direction.meta.tEdit!)[0];
  const o = recipe.options;
  const tMax = manifest.schedule.trainSteps - 1;
  const tEdit = o.tEdit ?? lead?.direction.meta.tEdit ?? manifest.defaults.tEdit;
  const tBoost = o.tBoost ?? lead?.direction.meta.tBoost ?? terms.find((t) => t.direction.meta.tBoost !== undefined)?.direction.meta.tBoost ?? manifest.defaults.tBoost;
  if (tEdit > tMax || tBoost > tMax) throw new EngineError('RECIPE_BAD_VALUE', `t_edit and t_boost must be at most ${tMax} for this model`);

  const generationSteps = o.steps ?? manifest.defaults.generationSteps;
  // A direction calibrated for S steps (metadata trainSteps) is rescaled by S / S̃ when sampling with S̃
  // steps, as the official implementation does (docs/method.md §1.4; the paper's Δh̃ = f(h)·S/S̃).
  const stepScale = (d: Direction) => {
    const s = Number(d.meta.raw.trainSteps);
    return Number.isFinite(s) && s > 0 ? s / generationSteps : 1;
  };
  const active = terms.filter((t) => t.weight !== 0).map((t) => ({ ...t, weight: t.weight * stepScale(t.direction) }));
  const [C, H, W] = manifest.hspace;
  const size = C * H * W;
  const hDependent = active.some((t) => t.direction.hGain !== undefined || t.direction.hNet !== undefined);
  // Generation asks for the same t twice per step (phase, then request): remember the last one.
  let cachedT = NaN;
  let cachedH: Float32Array | null = null;
  let cached: DeltaHParts | null = null;
  // Made at the first Δh_t asked for, not here: every submit plans its edit to validate the recipe, and a
  // fresh 128 kB zeroed array per plan cost ~0.45 ms of the event loop each (the VM's first-touch page
  // faults), 45 ms over a burst's 100 accepted submits.
  let scratch: Float32Array | null = null;
  const deltaHPartsAt = (t: number, hPrev: Float32Array | null = null): DeltaHParts | null => {
    if (active.length === 0) return null;
    if (t === cachedT && (!hDependent || hPrev === cachedH)) return cached;
    const fixed = new Float32Array(size);
    const hNets: HNetTerm[] = [];
    for (const term of active) {
      if (o.tEdit === undefined && term.direction.meta.tEdit !== undefined && t < term.direction.meta.tEdit) continue;
      scratch ??= new Float32Array(size);
      directionAt(term.direction, t, scratch);
      for (let i = 0; i < size; i++) fixed[i]! += term.weight * scratch[i]!;
      if (hPrev) addHGain(term.direction, hPrev, term.weight, fixed);
      if (hPrev && term.direction.hNet) hNets.push({ net: term.direction.hNet, weight: term.weight });
    }
    cachedT = t;
    cachedH = hPrev;
    cached = { fixed, hNets };
    return cached;
  };
  const deltaHAt = (t: number, hPrev: Float32Array | null = null): Float32Array | null => {
    const parts = deltaHPartsAt(t, hPrev);
    if (!parts || parts.hNets.length === 0 || !hPrev) return parts?.fixed ?? null;
    const sum = Float32Array.from(parts.fixed);
    for (const term of parts.hNets) addHNet(term.net, hPrev, t, term.weight, manifest.hspace, sum);
    return sum;
  };
  const plan: EditPlan = {
    inversionSteps: o.steps ?? manifest.defaults.inversionSteps,
    inversionRefinement: manifest.defaults.inversionRefinement,
    generationSteps,
    tEdit,
    tBoost,
    seed: o.seed ?? DEFAULT_SEED,
    terms,
    hDependent,
    deltaHAt,
    deltaHPartsAt,
    scaled: (s) => (s === 1 ? plan : planEdit(manifest, { ...recipe, terms: recipe.terms.map((t) => ({ ...t, strength: (t.strength ?? 1) * s })) }, getDirection)),
  };
  return plan;
}

function negativeSide(named: Direction, getDirection: (name: string) => Direction): Direction {
  try {
    return getDirection(named.meta.negative!);
  } catch (e) {
    if (e instanceof EngineError && e.code === 'DIRECTION_NOT_FOUND') {
      throw new EngineError('DIRECTION_NOT_FOUND', `"${named.meta.name}" at a negative strength is the direction "${named.meta.negative}", which is not installed`, { name: named.meta.negative });
    }
    throw e;
  }
}
