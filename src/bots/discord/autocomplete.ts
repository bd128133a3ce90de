/**
 * Autocomplete for recipes (the last word being typed: directions of the model and presets the person
 * can use) and for preset names. Discord shows at most 25 choices of at most 100 characters. The
 * choices are the answer itself, so they come from memory (storage's read model) and nothing is
 * written: a person not seen before gets the shared presets.
 */
import type { AutocompleteInteraction } from 'discord.js';
import { knownActor } from '../core/actors.js';
import { presetSuggestions } from '../core/preset-actions.js';
import type { DiscordBotContext } from './bot-context.js';
import { requesterOf } from './requester.js';

export async function handleAutocomplete(ctx: DiscordBotContext, i: AutocompleteInteraction): Promise<void> {
  const focused = i.options.getFocused(true);
  const typed = String(focused.value);
  const actor = knownActor(ctx.edits.model, requesterOf(i));
  if (focused.name === 'name') {
    const choices = presetSuggestions(ctx.edits.model, actor, typed, 25).map((s) => ({ name: s.label.slice(0, 100), value: s.ref.slice(0, 100) }));
    await i.respond(choices);
    return;
  }
  // A recipe: complete its last word, keep what came before it.
  const cut = Math.max(typed.lastIndexOf(' '), typed.lastIndexOf(',')) + 1;
  const head = typed.slice(0, cut);
  const word = typed.slice(cut).toLowerCase();
  const directions = ctx.catalog.directionNames.filter((d) => d.startsWith(word.split(':')[0] ?? ''));
  const presets = word.includes(':') ? [] : presetSuggestions(ctx.edits.model, actor, word, 10);
  const choices = [
    ...directions.map((d) => ({ name: `${head}${d}:${ctx.catalog.defaultStrength(d)}`, value: `${head}${d}:${ctx.catalog.defaultStrength(d)}` })),
    ...presets.map((p) => ({ name: `${head}${p.ref}  (${p.label})`, value: `${head}${p.ref}` })),
  ]
    .filter((c) => c.value.length <= 100)
    .map((c) => ({ name: c.name.slice(0, 100), value: c.value }))
    .slice(0, 25);
  await i.respond(choices);
}
