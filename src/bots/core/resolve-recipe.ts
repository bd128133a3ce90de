/**
 * From what a person typed to what the engine runs: parse with the #2 grammar (directions of the
 * current model, presets allowed), expand each preset reference (`name` or `@user/name`) into its
 * directions scaled by the strength given to the preset, and re-check the result against the model.
 */
import type { Recipe, RecipeOptions } from '../../engine/recipe/parse-recipe.js';
import { formatRecipe, parseRecipe, RECIPE_LIMITS } from '../../engine/recipe/parse-recipe.js';
import type { Actor, Preset } from '../../storage/index.js';
import { isStorageError } from '../../storage/index.js';
import { EngineError } from '../../engine/errors.js';
import { UserFacingError } from './user-facing-error.js';

export interface ResolvedRecipe {
  /** Directions only, normalized: what is sent to the engine and stored in history. */
  readonly engineText: string;
  /** What the person typed, normalized (may name presets): what the result message shows. */
  readonly displayText: string;
  /** The first preset used, for use counts and history. */
  readonly preset: Preset | null;
}

export interface ResolveContext {
  readonly directions: readonly string[];
  readonly actor: Actor;
  /** Storage's presets, or its read model (the same answers from memory, before an acknowledgement). */
  readonly presets: { resolve(actor: Actor, ref: string): Preset };
}

const round = (v: number) => Number(v.toPrecision(6));

/**
 * The grammar alone, without storage: what the person typed, normalized (the displayText resolveRecipe
 * gives). Throws the grammar's errors (a typo in an option, a strength out of range); presets are only
 * named, not looked up, so it can run before an acknowledgement.
 */
export function typedRecipe(text: string, directions: readonly string[]): string {
  return formatRecipe(parseRecipe(text, { directions, allowPresets: true }));
}

export function resolveRecipe(text: string, ctx: ResolveContext): ResolvedRecipe {
  const typed = parseRecipe(text, { directions: ctx.directions, allowPresets: true });
  const strengths = new Map<string, number>();
  const add = (name: string, v: number) => strengths.set(name, round((strengths.get(name) ?? 0) + v));
  let options: RecipeOptions = {};
  let firstPreset: Preset | null = null;
  for (const term of typed.terms) {
    if (!term.preset) {
      add(term.name, term.strength ?? 1);
      continue;
    }
    let preset: Preset;
    try {
      preset = ctx.presets.resolve(ctx.actor, term.name);
    } catch (e) {
      if (isStorageError(e, 'NOT_FOUND') && !term.name.startsWith('@')) throw unknownName(text, term.name, ctx.directions);
      throw e;
    }
    firstPreset ??= preset;
    // Preset recipes are stored normalized and never name other presets (storage enforces it).
    const inner = parseRecipe(preset.recipe);
    for (const t of inner.terms) add(t.name, (t.strength ?? 1) * (term.strength ?? 1));
    options = { ...inner.options, ...options };
  }
  options = { ...options, ...typed.options };
  const merged: Recipe = {
    terms: [...strengths].map(([name, strength]) => (strength === 1 ? { name } : { name, strength })),
    options,
  };
  // Re-parse the expansion: a preset made for another model, or sums out of range, fail here with the
  // grammar's own pointed message instead of inside the engine.
  const engineText = formatRecipe(parseRecipe(formatRecipe(merged), { directions: ctx.directions }));
  if (merged.terms.length === 0) throw new UserFacingError('input', 'Name at least one direction, as in `smile:0.8`.');
  return { engineText, displayText: formatRecipe(typed), preset: firstPreset };
}

/** The same recipe with every strength multiplied (weaker / stronger buttons), kept within the limits. */
export function scaleRecipe(engineText: string, factor: number): string {
  const r = parseRecipe(engineText);
  const clamp = (v: number) => Math.max(-RECIPE_LIMITS.maxStrength, Math.min(RECIPE_LIMITS.maxStrength, v));
  return formatRecipe({ terms: r.terms.map((t) => ({ name: t.name, strength: round(clamp((t.strength ?? 1) * factor)) })), options: r.options });
}

/** A bare name that is neither a direction nor a preset: most often a typo, so point at it and guess. */
function unknownName(text: string, name: string, directions: readonly string[]): EngineError {
  const at = Math.max(0, text.toLowerCase().search(new RegExp(`(^|[\\s,])${name.replace(/[-]/g, '\\-')}`)));
  const offset = at > 0 ? at + 1 : 0;
  const guess = closest(name, directions);
  const lines = [
    `Unknown direction or preset "${name}".${guess ? ` Did you mean "${guess}"?` : ''}`,
    `  ${text.replace(/[\r\n\t]/g, ' ')}`,
    `  ${' '.repeat(offset)}${'^'.repeat(name.length)}`,
    `Directions: ${directions.join(', ') || '(none installed)'}.`,
  ];
  return new EngineError('RECIPE_UNKNOWN_DIRECTION', lines.join('\n'), { token: name });
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
