/**
 * `/asyrp admin emoji|limits|channels|reactions`, for members with Manage Server. The command's default
 * permissions only hide it; the check here (and storage's own) is what enforces it.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { actorFor } from '../core/actors.js';
import { UserFacingError } from '../core/user-facing-error.js';
import type { DiscordBotContext } from './bot-context.js';
import { answerPrivately } from './private-answer.js';
import { requesterOf } from './requester.js';
import { parseRecipe } from '../../engine/recipe/parse-recipe.js';

export async function handleAdminCommand(ctx: DiscordBotContext, i: ChatInputCommandInteraction, sub: string): Promise<void> {
  const requester = requesterOf(i);
  if (!requester.isServerAdmin || !i.inGuild()) throw new UserFacingError('forbidden', 'Only members with **Manage Server** can change the bot settings.');
  const actor = actorFor(ctx.storage, requester);
  const settings = ctx.storage.serverSettings;
  let text: string;
  if (sub === 'emoji') {
    const emoji = i.options.getString('emoji', true).trim();
    const recipe = i.options.getString('recipe');
    if (!recipe) {
      text = settings.removeEmoji(actor, emoji) ? `Removed the mapping for ${emoji}.` : `${emoji} was not mapped.`;
    } else {
      // Check the directions now, so a typo does not wait for the first reaction to show up.
      parseRecipe(recipe, { directions: ctx.catalog.directionNames, allowPresets: true });
      const saved = settings.setEmoji(actor, emoji, { recipe });
      text = `${emoji} now runs \`${saved.recipe ?? ''}\`.`;
    }
  } else if (sub === 'limits') {
    const s = settings.update(actor, { userEditsPerHour: i.options.getInteger('per_user'), serverEditsPerHour: i.options.getInteger('per_server') });
    const show = (n: number | null) => (n === null ? 'no limit' : `${n} per hour`);
    text = `Limits: each person ${show(s.userEditsPerHour)}; the server ${show(s.serverEditsPerHour)}.`;
  } else if (sub === 'channels') {
    const raw = i.options.getString('channels', true).trim();
    const ids = raw.toLowerCase() === 'all' ? [] : [...raw.matchAll(/\d{17,20}/g)].map((m) => m[0]);
    if (raw.toLowerCase() !== 'all' && ids.length === 0) throw new UserFacingError('input', 'Name channels as #mentions or ids, or say "all".');
    settings.setAllowedChannels(actor, ids);
    text = ids.length ? `Edits are allowed in ${ids.map((c) => `<#${c}>`).join(', ')}.` : 'Edits are allowed in every channel.';
  } else if (sub === 'reactions') {
    const s = settings.update(actor, { reactionsEnabled: i.options.getBoolean('enabled', true) });
    text = s.reactionsEnabled ? 'Emoji reactions are on.' : 'Emoji reactions are off.';
  } else {
    text = 'Unknown admin command.';
  }
  await answerPrivately(i, { content: text.slice(0, 2000) });
}
