/** `/asyrp preset save|use|list|info|share|star|delete|fork`: translation to the core's preset actions. */
import type { ChatInputCommandInteraction } from 'discord.js';
import type { PresetScope } from '../../storage/index.js';
import { actorFor } from '../core/actors.js';
import { deletePreset, describePreset, forkPreset, listPresetsText, savePreset, sharePreset, starPreset } from '../core/preset-actions.js';
import type { DiscordBotContext } from './bot-context.js';
import { answerPrivately } from './private-answer.js';
import { requesterOf } from './requester.js';
import { runSlashEdit } from './slash-edit.js';

export async function handlePresetCommand(ctx: DiscordBotContext, i: ChatInputCommandInteraction, sub: string): Promise<void> {
  const name = () => i.options.getString('name', true).trim();
  if (sub === 'use') {
    // An edit: it acknowledges itself, and nothing (not even the account) is written before that.
    const strength = i.options.getNumber('strength');
    const ref = name();
    return runSlashEdit(ctx, i, strength === null ? ref : `${ref}:${strength}`);
  }
  // The other subcommands were deferred privately by the router: writing the account is after the ack.
  const actor = actorFor(ctx.storage, requesterOf(i));
  const { storage } = ctx;
  let text: string;
  switch (sub) {
    case 'save':
      text = savePreset(storage, actor, {
        name: name(),
        recipe: i.options.getString('recipe', true),
        modelId: ctx.catalog.current.id,
        directions: ctx.catalog.directionNames,
        scope: (i.options.getString('scope') ?? 'private') as PresetScope,
        description: i.options.getString('description') ?? '',
      });
      break;
    case 'list':
      text = listPresetsText(storage, actor, (i.options.getString('which') ?? 'mine') as 'mine');
      break;
    case 'info':
      text = describePreset(storage.presets.resolve(actor, name()));
      break;
    case 'share':
      text = sharePreset(storage, actor, name(), i.options.getString('scope', true) as PresetScope);
      break;
    case 'star':
      text = starPreset(storage, actor, name());
      break;
    case 'delete':
      text = deletePreset(storage, actor, name());
      break;
    case 'fork':
      text = forkPreset(storage, actor, name(), i.options.getString('new_name') ?? undefined);
      break;
    default:
      text = 'Unknown preset command.';
  }
  await answerPrivately(i, { content: text.slice(0, 2000) });
}
