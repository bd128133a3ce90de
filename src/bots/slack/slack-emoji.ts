/**
 * Slack names reactions by shortcode (`smile`, `nerd_face`), while the core's default map and the
 * admin's mappings use the emoji itself. Known faces are turned into their character so the same
 * defaults as Discord apply; any other (custom) emoji keeps its `:name:` form as the key.
 */
const SHORTCODES: Record<string, string> = {
  smile: '😄',
  grinning: '😀',
  angry: '😠',
  rage: '😡',
  nerd_face: '🤓',
  sleeping: '😴',
  older_man: '👴',
  open_mouth: '😮',
  astonished: '😲',
};

export function emojiKey(shortcode: string): string {
  const base = shortcode.replace(/::skin-tone-\d$/, '');
  return SHORTCODES[base] ?? `:${base}:`;
}

/** What an admin typed (`:smile:`, `smile` or `😄`) as the stored key. */
export function emojiKeyFromText(text: string): string {
  const t = text.trim();
  const m = /^:?([a-z0-9_+'-]+):?$/i.exec(t);
  return m ? emojiKey(m[1]!.toLowerCase()) : t;
}
