/**
 * Preset commands in words, shared by both platforms: each function does one storage call through the
 * person's Actor and returns the short text to show. Permission rules live in storage (a private
 * preset is "not found" for everyone but its owner).
 */
import type { Actor, Preset, PresetScope, ReadModel, Storage } from '../../storage/index.js';
import { normalizeRecipeText } from './recipe-text.js';

export const presetLabel = (p: Preset) => `**${p.name}** by @${p.ownerHandle}`;

export function describePreset(p: Preset): string {
  return [
    `${presetLabel(p)} (${p.scope}, v${p.version})`,
    `Recipe: \`${p.recipe}\` on model ${p.modelId}`,
    p.description ? `> ${p.description}` : '',
    `⭐ ${p.starCount} · used ${p.useCount} times · use it as \`@${p.ownerHandle}/${p.name}\``,
  ]
    .filter(Boolean)
    .join('\n');
}

export function savePreset(storage: Storage, actor: Actor, o: { name: string; recipe: string; modelId: string; directions: readonly string[]; scope?: PresetScope; description?: string }): string {
  const recipe = normalizeRecipeText(o.recipe, o.directions);
  const p = storage.presets.create(actor, { name: o.name, recipe, modelId: o.modelId, scope: o.scope ?? 'private', description: o.description ?? '' });
  return `💾 Saved ${presetLabel(p)} (${p.scope}): \`${p.recipe}\`.`;
}

export function listPresetsText(storage: Storage, actor: Actor, which: 'mine' | 'top' | 'new' | 'trending'): string {
  const list = which === 'mine' ? storage.presets.listOwn(actor, { limit: 25 }) : storage.presets.list(actor, which, { limit: 15 });
  if (list.length === 0) return which === 'mine' ? 'You have no presets yet. Save one with `/asyrp preset save`.' : 'No shared presets here yet.';
  return list.map((p) => `• ${presetLabel(p)} (${p.scope}) \`${p.recipe}\` ⭐${p.starCount}`).join('\n');
}

export function sharePreset(storage: Storage, actor: Actor, ref: string, scope: PresetScope): string {
  const p = ownPreset(storage, actor, ref);
  const changed = storage.presets.update(actor, p.id, { scope });
  return `🔗 ${presetLabel(changed)} is now ${changed.scope}.`;
}

export function starPreset(storage: Storage, actor: Actor, ref: string): string {
  const p = storage.presets.resolve(actor, ref);
  return storage.presets.star(actor, p.id) ? `⭐ Starred ${presetLabel(p)}.` : `You had already starred ${presetLabel(p)}.`;
}

export function deletePreset(storage: Storage, actor: Actor, ref: string): string {
  const p = storage.presets.resolve(actor, ref);
  storage.presets.remove(actor, p.id);
  return `🗑️ Deleted ${presetLabel(p)}.`;
}

export function forkPreset(storage: Storage, actor: Actor, ref: string, newName?: string): string {
  const p = storage.presets.resolve(actor, ref);
  const copy = storage.presets.fork(actor, p.id, newName ? { name: newName } : {});
  return `🍴 Copied ${presetLabel(p)} to your ${presetLabel(copy)} (private; share it with \`/asyrp preset share\`).`;
}

/** The actor's own preset by name (share and rename act only on your own). */
function ownPreset(storage: Storage, actor: Actor, ref: string): Preset {
  const p = storage.presets.resolve(actor, ref);
  if (p.ownerId !== actor.accountId) return storage.presets.resolve(actor, `@${storage.accounts.get(actor.accountId).handle}/${ref.replace(/^@[^/]+\//, '')}`);
  return p;
}

/**
 * Autocomplete: presets the person can use whose name or description contains the typed text, or their
 * own when nothing is typed. From storage's read model: the suggestions are the answer itself.
 */
export function presetSuggestions(model: ReadModel, actor: Actor, typed: string, limit = 15): { ref: string; label: string }[] {
  const q = typed.replace(/^@[^/]*\/?/, '').slice(0, 100);
  const found = q ? model.search(actor, q, limit) : model.listOwn(actor, limit);
  return found.map((p) => presetSuggestion(actor, p));
}

/** One suggestion: the name to type (own presets bare, others as `@owner/name`) and what it does. */
export function presetSuggestion(actor: Actor, p: Preset): { ref: string; label: string } {
  return { ref: p.ownerId === actor.accountId ? p.name : `@${p.ownerHandle}/${p.name}`, label: `${p.name} by @${p.ownerHandle}: ${p.recipe}` };
}
