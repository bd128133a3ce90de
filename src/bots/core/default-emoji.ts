/**
 * The emoji a server gets before an admin maps any: a few obvious faces for the directions the loaded
 * model has. Only directions that exist are offered, so a reaction never starts an edit that must fail.
 */
const CANDIDATES: readonly [emoji: string, directions: readonly string[]][] = [
  ['😄', ['smile', 'happy', 'smiling']],
  ['😠', ['frown', 'angry']],
  ['🤓', ['glasses', 'eyeglasses']],
  ['😴', ['eyes_closed', 'eyes-closed', 'sleepy', 'closed_eyes']],
  ['👴', ['age', 'old', 'older']],
  ['😮', ['surprise', 'surprised']],
];

export function defaultEmojiMap(directions: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const [emoji, names] of CANDIDATES) {
    const hit = names.find((n) => directions.includes(n));
    if (hit) map.set(emoji, hit);
  }
  return map;
}

/** The recipe an emoji stands for on a server: the admin's mapping first, else the defaults. */
export function emojiRecipe(
  emoji: string,
  mapped: { recipe: string | null; presetId: number | null } | undefined,
  directions: readonly string[],
  presetName?: (id: number) => string | undefined,
): string | undefined {
  if (mapped?.recipe) return mapped.recipe;
  if (mapped?.presetId != null) return presetName?.(mapped.presetId);
  return defaultEmojiMap(directions).get(emoji);
}
