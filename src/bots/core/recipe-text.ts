/** Recipe text checks that need the model's direction list (preset save, emoji mapping). */
import { formatRecipe, parseRecipe } from '../../engine/recipe/parse-recipe.js';

/** Parses against the model's directions (no presets inside presets) and returns the normalized text. */
export function normalizeRecipeText(text: string, directions: readonly string[]): string {
  return formatRecipe(parseRecipe(text, { directions }));
}
