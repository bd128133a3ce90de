/**
 * The recipe grammar: the text a person types after `/asyrp` (or on the command line after the image).
 *
 *   recipe   := item*                       (separated by spaces or commas)
 *   item     := term | option | number | strength
 *   term     := NAME [(":" | "=") NUMBER]    a direction, or a preset when it is not a direction
 *             | "@" OWNER "/" NAME           a preset of another user
 *   number   := NUMBER                       strength of the term just before it ("smile 0.8")
 *   strength := "strength" (":"|"=") NUMBER  the same, spelled out ("smile strength:0.8")
 *   option   := ("steps" | "t_edit" | "t_boost" | "seed") (":"|"=") INTEGER
 *
 * One module, reused by the CLI and both bots, so every surface accepts exactly the same text.
 */
import { EngineError } from '../errors.js';
import { closestMatch } from './closest-match.js';

export interface RecipeTerm {
  /** A direction name, or a preset reference (`name` or `@owner/name`) when `preset` is true. */
  readonly name: string;
  /** The strength the person typed; absent means 1. May be negative. */
  readonly strength?: number;
  readonly preset?: true;
}

export interface RecipeOptions {
  /** Inversion and generation step count. */
  readonly steps?: number;
  readonly tEdit?: number;
  /** 0 turns quality boosting off. */
  readonly tBoost?: number;
  readonly seed?: number;
}

export interface Recipe {
  readonly terms: readonly RecipeTerm[];
  readonly options: RecipeOptions;
}

export interface ParseRecipeContext {
  /** Known direction names. When given, any other name is an error unless presets are allowed. */
  readonly directions?: readonly string[];
  /** Whether names that are not directions may be preset references. */
  readonly allowPresets?: boolean;
}

export const RECIPE_LIMITS = {
  maxTerms: 10,
  maxStrength: 3,
  minSteps: 2,
  maxSteps: 1000,
  maxTimestep: 999,
  maxSeed: 0xffff_ffff,
  maxLength: 500,
} as const;

export const RECIPE_OPTIONS = ['steps', 't_edit', 't_boost', 'seed'] as const;
type OptionName = (typeof RECIPE_OPTIONS)[number];

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const PRESET_REF = /^@([a-z0-9][a-z0-9_.-]{0,63})\/([a-z0-9][a-z0-9_-]{0,31})$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const OPTION_ALIASES: Readonly<Record<string, OptionName>> = {
  steps: 'steps',
  t_edit: 't_edit',
  tedit: 't_edit',
  't-edit': 't_edit',
  t_boost: 't_boost',
  tboost: 't_boost',
  't-boost': 't_boost',
  seed: 'seed',
};

interface Token {
  readonly text: string;
  readonly at: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /[^\s,]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) tokens.push({ text: m[0], at: m.index });
  return tokens;
}

/** Builds the message that shows where the bad token is and what would have been accepted. */
function recipeError(
  code: 'RECIPE_SYNTAX' | 'RECIPE_UNKNOWN_DIRECTION' | 'RECIPE_UNKNOWN_OPTION' | 'RECIPE_BAD_VALUE' | 'RECIPE_TOO_MANY',
  problem: string,
  source: string,
  token: Token | undefined,
  ctx: ParseRecipeContext,
  extra: Record<string, unknown> = {},
): EngineError {
  const lines = [problem];
  if (token) lines.push(`  ${source}`, `  ${' '.repeat(token.at)}${'^'.repeat(Math.max(1, token.text.length))}`);
  if (ctx.directions) lines.push(`Directions: ${ctx.directions.length ? ctx.directions.join(', ') : '(none installed)'}.`);
  lines.push('Options: steps:<2-1000>, t_edit:<0-999>, t_boost:<0-999, 0 = off>, seed:<integer>; strength as smile:0.8, smile 0.8 or smile strength:0.8.');
  return new EngineError(code, lines.join('\n'), {
    token: token?.text,
    position: token?.at,
    directions: ctx.directions ? [...ctx.directions] : undefined,
    ...extra,
  });
}

function parseNumber(raw: string): number | undefined {
  if (!NUMBER.test(raw)) return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

export function parseRecipe(text: string, ctx: ParseRecipeContext = {}): Recipe {
  if (text.length > RECIPE_LIMITS.maxLength) {
    throw recipeError('RECIPE_TOO_MANY', `The recipe is ${text.length} characters long; the limit is ${RECIPE_LIMITS.maxLength}.`, '', undefined, ctx);
  }
  const source = text.replace(/[\r\n\t]/g, ' ');
  const terms: { name: string; strength?: number; preset?: true; token: Token }[] = [];
  const options: { steps?: number; tEdit?: number; tBoost?: number; seed?: number } = {};
  const fail = (code: Parameters<typeof recipeError>[0], problem: string, token: Token, extra?: Record<string, unknown>) =>
    recipeError(code, problem, source, token, ctx, extra);

  const setStrength = (value: number, token: Token) => {
    const last = terms[terms.length - 1];
    if (!last) throw fail('RECIPE_SYNTAX', `A strength (${token.text}) needs a direction before it, as in "smile ${token.text}".`, token);
    if (last.strength !== undefined) throw fail('RECIPE_SYNTAX', `"${last.name}" already has a strength (${last.strength}).`, token);
    if (Math.abs(value) > RECIPE_LIMITS.maxStrength) {
      throw fail('RECIPE_BAD_VALUE', `Strength ${value} is out of range: use -${RECIPE_LIMITS.maxStrength} to ${RECIPE_LIMITS.maxStrength}.`, token);
    }
    last.strength = value;
  };

  for (const token of tokenize(source)) {
    const raw = token.text.toLowerCase();
    const sep = raw.search(/[:=]/);
    const key = sep >= 0 ? raw.slice(0, sep) : raw;
    const value = sep >= 0 ? raw.slice(sep + 1) : undefined;

    const bare = parseNumber(raw);
    if (bare !== undefined) {
      setStrength(bare, token);
      continue;
    }
    if (key === 'strength' || key === 's') {
      const v = value === undefined ? undefined : parseNumber(value);
      if (v === undefined) throw fail('RECIPE_BAD_VALUE', `"${token.text}" needs a number, as in strength:0.8.`, token);
      setStrength(v, token);
      continue;
    }
    const option = OPTION_ALIASES[key];
    if (option && value !== undefined) {
      applyOption(option, value, token, options, fail);
      continue;
    }
    if (value !== undefined) {
      const unknownOption = misnamedOption(key, value, ctx);
      if (unknownOption) {
        const hint = unknownOption.closest ? `; did you mean ${unknownOption.closest}?` : '.';
        throw fail('RECIPE_UNKNOWN_OPTION', `Unknown option "${key}"${hint}`, token, { option: key, suggestion: unknownOption.closest });
      }
    }
    const presetRef = PRESET_REF.test(key);
    if (presetRef && !ctx.allowPresets) throw fail('RECIPE_UNKNOWN_DIRECTION', `Presets like "${token.text}" cannot be used here.`, token);
    if (!presetRef && !NAME.test(key)) throw fail('RECIPE_SYNTAX', `"${token.text}" is not a direction, preset or option.`, token);
    const isDirection = !presetRef && (!ctx.directions || ctx.directions.includes(key));
    if (!isDirection && !ctx.allowPresets) {
      throw fail('RECIPE_UNKNOWN_DIRECTION', `Unknown direction "${key}".`, token);
    }
    if (terms.some((t) => t.name === key)) throw fail('RECIPE_SYNTAX', `"${key}" appears twice; give it once with one strength.`, token);
    terms.push(isDirection ? { name: key, token } : { name: key, preset: true, token });
    if (value !== undefined) {
      const v = parseNumber(value);
      if (v === undefined) throw fail('RECIPE_BAD_VALUE', `"${token.text}": the strength must be a number, as in ${key}:0.8.`, token);
      setStrength(v, token);
    }
  }

  if (terms.length > RECIPE_LIMITS.maxTerms) {
    const extra = terms[RECIPE_LIMITS.maxTerms]!.token;
    throw fail('RECIPE_TOO_MANY', `A recipe may mix at most ${RECIPE_LIMITS.maxTerms} directions.`, extra);
  }
  return {
    terms: terms.map(({ token: _t, ...rest }) => (rest.strength === undefined ? { name: rest.name, ...(rest.preset ? { preset: true as const } : {}) } : rest)),
    options,
  };
}

/** What a person may write as `name:value` besides a direction or preset (the aliases too: "tedti" is a typo of "tedit"). */
const OPTION_WORDS = [...Object.keys(OPTION_ALIASES), 'strength'];

/**
 * Whether `key:value` is a mistyped option rather than a direction or preset with a strength. Without this,
 * "smile 0.8 stepz:20" read "stepz" as a direction or preset and answered "Strength 20 is out of range",
 * which sends the person looking in the wrong place. A known direction is never an option; otherwise a key
 * within typo distance of an option is one, and so, where presets are not allowed, is any unknown key whose
 * value no strength could be (where they are, "mypreset:5" is more likely a strength too high).
 */
function misnamedOption(key: string, value: string, ctx: ParseRecipeContext): { closest?: string } | undefined {
  if (key.startsWith('@') || ctx.directions?.includes(key)) return undefined;
  const closest = closestMatch(key, OPTION_WORDS);
  if (closest) return { closest: OPTION_ALIASES[closest] ?? closest };
  const v = parseNumber(value);
  if (ctx.directions && !ctx.allowPresets && v !== undefined && Math.abs(v) > RECIPE_LIMITS.maxStrength) return {};
  return undefined;
}

function applyOption(
  option: OptionName,
  value: string,
  token: Token,
  options: { steps?: number; tEdit?: number; tBoost?: number; seed?: number },
  fail: (code: 'RECIPE_BAD_VALUE' | 'RECIPE_SYNTAX', problem: string, token: Token) => EngineError,
): void {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  const range: Record<OptionName, [number, number]> = {
    steps: [RECIPE_LIMITS.minSteps, RECIPE_LIMITS.maxSteps],
    t_edit: [0, RECIPE_LIMITS.maxTimestep],
    t_boost: [0, RECIPE_LIMITS.maxTimestep],
    seed: [0, RECIPE_LIMITS.maxSeed],
  };
  const [lo, hi] = range[option];
  if (!Number.isSafeInteger(n) || n < lo || n > hi) {
    throw fail('RECIPE_BAD_VALUE', `${option} must be a whole number from ${lo} to ${hi}; got "${value}".`, token);
  }
  const field = ({ steps: 'steps', t_edit: 'tEdit', t_boost: 'tBoost', seed: 'seed' } as const)[option];
  if (options[field] !== undefined) throw fail('RECIPE_SYNTAX', `${option} is given twice.`, token);
  options[field] = n;
}

/** The normalized text of a recipe: what presets store and what the bots echo back. */
export function formatRecipe(recipe: Recipe): string {
  const parts = recipe.terms.map((t) => (t.strength === undefined || t.strength === 1 ? t.name : `${t.name}:${formatNumber(t.strength)}`));
  const o = recipe.options;
  if (o.steps !== undefined) parts.push(`steps:${o.steps}`);
  if (o.tEdit !== undefined) parts.push(`t_edit:${o.tEdit}`);
  if (o.tBoost !== undefined) parts.push(`t_boost:${o.tBoost}`);
  if (o.seed !== undefined) parts.push(`seed:${o.seed}`);
  return parts.join(' ');
}

function formatNumber(v: number): string {
  // Round away binary noise (0.1 + 0.2) but keep what a person could have typed.
  return String(Number(v.toPrecision(6)));
}
