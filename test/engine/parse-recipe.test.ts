import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors.js';
import { formatRecipe, parseRecipe } from '../../src/engine/recipe/parse-recipe.js';

const directions = ['smile', 'glasses', 'eyes-closed', 'hair-red'];

function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('parseRecipe', () => {
  it('reads the forms a person types', () => {
    expect(parseRecipe('smile strength:0.8', { directions }).terms).toEqual([{ name: 'smile', strength: 0.8 }]);
    expect(parseRecipe('smile 0.8', { directions }).terms).toEqual([{ name: 'smile', strength: 0.8 }]);
    expect(parseRecipe('smile:0.8 glasses:-0.5', { directions }).terms).toEqual([
      { name: 'smile', strength: 0.8 },
      { name: 'glasses', strength: -0.5 },
    ]);
    expect(parseRecipe('Smile, GLASSES=1.5', { directions }).terms).toEqual([{ name: 'smile' }, { name: 'glasses', strength: 1.5 }]);
  });

  it('reads options', () => {
    const r = parseRecipe('smile steps:20 t_edit:600 t_boost:0 seed:42', { directions });
    expect(r.options).toEqual({ steps: 20, tEdit: 600, tBoost: 0, seed: 42 });
  });

  it('allows an empty recipe (an unedited reconstruction)', () => {
    expect(parseRecipe('  ', { directions })).toEqual({ terms: [], options: {} });
  });

  it('treats unknown names as presets only when allowed', () => {
    expect(parseRecipe('cute @alice/happy:0.5', { directions, allowPresets: true }).terms).toEqual([
      { name: 'cute', preset: true },
      { name: '@alice/happy', preset: true, strength: 0.5 },
    ]);
    const e = errorOf(() => parseRecipe('smile smirk', { directions }));
    expect(e.code).toBe('RECIPE_UNKNOWN_DIRECTION');
    expect(e.message).toContain('Unknown direction "smirk"');
    expect(e.message).toContain('smile, glasses, eyes-closed, hair-red');
    expect(e.message).toContain('       ^^^^^');
  });

  it('points at the offending token', () => {
    const e = errorOf(() => parseRecipe('smile steps:abc', { directions }));
    expect(e.code).toBe('RECIPE_BAD_VALUE');
    expect(e.details.token).toBe('steps:abc');
    expect(e.details.position).toBe(6);
  });

  it.each([
    ['0.8', 'RECIPE_SYNTAX'],
    ['smile 0.5 0.6', 'RECIPE_SYNTAX'],
    ['smile smile', 'RECIPE_SYNTAX'],
    ['smile:9', 'RECIPE_BAD_VALUE'],
    ['smile:abc', 'RECIPE_BAD_VALUE'],
    ['smile steps:1', 'RECIPE_BAD_VALUE'],
    ['smile t_edit:1000', 'RECIPE_BAD_VALUE'],
    ['smile seed:-1', 'RECIPE_BAD_VALUE'],
    ['smile seed:1 seed:2', 'RECIPE_SYNTAX'],
    ['<script>', 'RECIPE_SYNTAX'],
    ['smile:NaN', 'RECIPE_BAD_VALUE'],
    ['smile:1e400', 'RECIPE_BAD_VALUE'],
  ])('refuses %j with %s', (text, code) => {
    expect(errorOf(() => parseRecipe(text, { directions })).code).toBe(code);
  });

  it('names an unknown option as such, with the closest valid one, wherever the recipe is parsed', () => {
    // The bots parse with presets allowed, the engine with its directions, storage with neither.
    for (const ctx of [{ directions }, { directions, allowPresets: true as const }, { allowPresets: true as const }, {}]) {
      const e = errorOf(() => parseRecipe('smile 0.8 stepz:20', ctx));
      expect(e.code).toBe('RECIPE_UNKNOWN_OPTION');
      expect(e.message.split('\n')[0]).toBe('Unknown option "stepz"; did you mean steps?');
      expect(e.details).toMatchObject({ option: 'stepz', suggestion: 'steps', token: 'stepz:20', position: 10 });
      expect(e.message).toContain('            ^^^^^^^^');
    }
    expect(errorOf(() => parseRecipe('smile strenght:0.5', { directions })).details.suggestion).toBe('strength');
    expect(errorOf(() => parseRecipe('smile tedti:600', { directions })).details.suggestion).toBe('t_edit');
    // Nothing close, but no strength could be 400: still an option, with the list of the real ones.
    const far = errorOf(() => parseRecipe('smile quality:400', { directions }));
    expect(far.code).toBe('RECIPE_UNKNOWN_OPTION');
    expect(far.message).toContain('Unknown option "quality".');
    expect(far.message).toContain('Options: steps');
    // An installed direction is never read as an option, however close its name is to one.
    expect(parseRecipe('seeds:0.5', { directions: ['seeds'] }).terms).toEqual([{ name: 'seeds', strength: 0.5 }]);
    // A preset with too high a strength stays a strength error where presets are allowed.
    expect(errorOf(() => parseRecipe('cute:5', { directions, allowPresets: true })).code).toBe('RECIPE_BAD_VALUE');
  });

  it('caps the number of directions and the length', () => {
    const many = Array.from({ length: 11 }, (_, i) => `d${i}`).join(' ');
    expect(errorOf(() => parseRecipe(many)).code).toBe('RECIPE_TOO_MANY');
    expect(errorOf(() => parseRecipe('smile '.repeat(200))).code).toBe('RECIPE_TOO_MANY');
  });

  it('formats a normalized recipe that parses back to the same thing', () => {
    const r = parseRecipe('SMILE strength:1 glasses=-0.50 seed:7 steps:30', { directions });
    const text = formatRecipe(r);
    expect(text).toBe('smile glasses:-0.5 steps:30 seed:7');
    expect(formatRecipe(parseRecipe(text, { directions }))).toBe(text);
  });
});
