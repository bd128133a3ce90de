/**
 * Input limits, checked before anything is written, each failing with its own StorageError code so the
 * bots can say exactly what to fix. Nothing is silently trimmed or lower-cased.
 */
import { EngineError } from '../engine/errors.js';
import { formatRecipe, parseRecipe } from '../engine/recipe/parse-recipe.js';
import type { Page, Platform, PresetScope } from './types.js';
import { PLATFORMS, PRESET_SCOPES } from './types.js';
import { StorageError } from './storage-error.js';

export const STORAGE_LIMITS = {
  presetNameMax: 32,
  descriptionMax: 200,
  directionsMax: 10,
  presetsPerAccount: 100,
  pageMax: 100,
  idMax: 200,
  pathMax: 1024,
  historyRecipeMax: 1000,
  /** An engine job's request JSON (recipe, labels and the like: a few kB at most). */
  jobRequestMax: 65_536,
} as const;

// First character alphanumeric so that the name can be typed in a recipe (the #2 grammar's NAME rule).
const PRESET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkPresetName(name: string): string {
  if (!PRESET_NAME.test(name)) {
    throw new StorageError(
      'INVALID_NAME',
      `Preset names are 1-${STORAGE_LIMITS.presetNameMax} characters of a-z, 0-9, "-" and "_", starting with a letter or digit; got "${name.slice(0, 40)}".`,
      { name: name.slice(0, 40) },
    );
  }
  return name;
}

export function checkDescription(text: string): string {
  const length = [...text].length; // characters as a person counts them, not UTF-16 units
  if (length > STORAGE_LIMITS.descriptionMax) {
    throw new StorageError('INVALID_DESCRIPTION', `Descriptions are at most ${STORAGE_LIMITS.descriptionMax} characters; this one has ${length}.`, {
      length,
    });
  }
  return text;
}

/**
 * Parses a recipe with the #2 grammar and returns its normalized text. Preset recipes may not refer to
 * other presets (that would let a chain of presets change under you, or loop), and need a direction.
 */
export function normalizeRecipe(text: string, options: { allowPresets?: boolean } = {}): string {
  let recipe;
  try {
    recipe = parseRecipe(text, { allowPresets: options.allowPresets ?? false });
  } catch (e) {
    if (e instanceof EngineError) throw new StorageError('INVALID_RECIPE', e.message, { reason: e.code, ...e.details }, { cause: e });
    throw e;
  }
  if (recipe.terms.length === 0) throw new StorageError('INVALID_RECIPE', 'A recipe needs at least one direction, as in "smile:0.8".');
  if (recipe.terms.length > STORAGE_LIMITS.directionsMax) {
    throw new StorageError('INVALID_RECIPE', `A recipe may mix at most ${STORAGE_LIMITS.directionsMax} directions.`, { reason: 'RECIPE_TOO_MANY' });
  }
  return formatRecipe(recipe);
}

export function checkModelId(id: string): string {
  if (!MODEL_ID.test(id)) throw new StorageError('INVALID_INPUT', `"${id.slice(0, 70)}" is not a valid model id.`, { field: 'modelId' });
  return id;
}

export function checkScope(scope: string): PresetScope {
  if (!(PRESET_SCOPES as readonly string[]).includes(scope)) {
    throw new StorageError('INVALID_INPUT', `Scope must be private, server or public; got "${scope.slice(0, 20)}".`, { field: 'scope' });
  }
  return scope as PresetScope;
}

export function checkPlatform(platform: string): Platform {
  if (!(PLATFORMS as readonly string[]).includes(platform)) {
    throw new StorageError('INVALID_INPUT', `Platform must be discord or slack; got "${platform.slice(0, 20)}".`, { field: 'platform' });
  }
  return platform as Platform;
}

/** Platform ids, message ids, hashes, emoji, keys: non-empty, bounded, no control characters. */
export function checkId(value: string, field: string, max: number = STORAGE_LIMITS.idMax): string {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || value.length > max || /[\u0000-\u001f]/.test(value)) {
    throw new StorageError('INVALID_INPUT', `${field} must be 1-${max} printable characters.`, { field });
  }
  return value;
}

export function checkPath(value: string, field: string): string {
  return checkId(value, field, STORAGE_LIMITS.pathMax);
}

export function checkCount(value: number, field: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new StorageError('INVALID_INPUT', `${field} must be a whole number from 0 to ${max}.`, { field });
  }
  return value;
}

/** Clamps nothing: a page size out of range is the caller's bug and is reported. */
export function pageOf(page: Page | undefined, defaultLimit = 20): { limit: number; offset: number } {
  const limit = page?.limit ?? defaultLimit;
  const offset = page?.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > STORAGE_LIMITS.pageMax) {
    throw new StorageError('INVALID_INPUT', `limit must be 1-${STORAGE_LIMITS.pageMax}.`, { field: 'limit' });
  }
  checkCount(offset, 'offset', 1_000_000);
  return { limit, offset };
}
