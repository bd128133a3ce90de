/**
 * `/asyrp <text>`: Slack gives the command one line of text, so the Discord subcommands become words.
 *   help | history | link [code] | preset <sub> ... | admin <sub> ... | edit <recipe> | <recipe>
 * A recipe may be written the Discord way, `smile strength:0.8` (or `smile 0.8`), or in the #2
 * grammar, `smile:0.8 glasses:0.5` / `@alice/vintage`. A lone direction gets the model's default strength.
 */
export type CommandRoute =
  | { kind: 'help' }
  | { kind: 'history' }
  | { kind: 'link'; code: string | null }
  | { kind: 'preset'; sub: string; args: string[]; rest: string }
  | { kind: 'admin'; sub: string; args: string[]; rest: string }
  | { kind: 'edit'; recipe: string };

const STRENGTH_FORM = /^(@?[a-z0-9_./-]+)\s+(?:strength\s*[:=]\s*)?(-?\d*\.?\d+)$/i;

export function parseCommandText(text: string, defaultStrength: (direction: string) => number | undefined): CommandRoute {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  const [head = '', ...tail] = trimmed.split(' ');
  const word = head.toLowerCase();
  if (word === '' || word === 'help') return { kind: 'help' };
  if (word === 'history') return { kind: 'history' };
  if (word === 'link') return { kind: 'link', code: tail[0] ?? null };
  if (word === 'preset' || word === 'admin') {
    const [sub = 'help', ...args] = tail;
    // `preset use name [strength]` is an edit like any other recipe.
    if (word === 'preset' && sub.toLowerCase() === 'use') return { kind: 'edit', recipe: args[1] ? `${args[0] ?? ''}:${args[1]}` : (args[0] ?? '') };
    return { kind: word, sub: sub.toLowerCase(), args, rest: args.join(' ') };
  }
  const recipeText = word === 'edit' ? tail.join(' ') : trimmed;
  return { kind: 'edit', recipe: toRecipe(recipeText, defaultStrength) };
}

export function toRecipe(text: string, defaultStrength: (direction: string) => number | undefined): string {
  const t = text.trim();
  const m = STRENGTH_FORM.exec(t);
  if (m) return `${m[1]}:${m[2]}`;
  if (/^[a-z0-9_-]+$/i.test(t)) {
    const s = defaultStrength(t);
    return s === undefined ? t : `${t}:${s}`;
  }
  return t;
}
