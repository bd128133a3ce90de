/**
 * The single interactionCreate listener: deduplicates deliveries (a resumed gateway session may replay
 * an interaction; the interaction id is decided in memory by the dedupe ledger and written to the
 * database once the ack is out), routes by kind and name, and is the one place errors become friendly,
 * private replies that know whether the interaction was deferred. Ack first: every handler acknowledges
 * before it writes anything or calls the engine (see docs/discord.md, "Ack first").
 */
import { MessageFlags } from 'discord.js';
import type { ChatInputCommandInteraction, Interaction, RepliableInteraction } from 'discord.js';
import { fenceIndented } from '../core/fence-indented.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import type { DiscordBotContext } from './bot-context.js';
import { parseCustomId } from './custom-ids.js';
import { onAck } from './on-ack.js';
import { handleResultButton, handleSaveModal } from './result-buttons.js';
import { runSlashEdit } from './slash-edit.js';
import { handleAutocomplete } from './autocomplete.js';
import { handlePresetCommand } from './preset-commands.js';
import { handleAdminCommand } from './admin-commands.js';
import { handleHelp, handleHistory, handleLink } from './info-commands.js';
import { CONTEXT_MENU_NAME } from './command-definitions.js';
import { handleContextMenu, handlePickSelect, handlePickStrength } from './context-menu.js';

export async function routeInteraction(ctx: DiscordBotContext, i: Interaction): Promise<void> {
  if (i.isAutocomplete()) {
    await handleAutocomplete(ctx, i).catch((e: unknown) => ctx.log.warn(`autocomplete failed: ${describeForLog(e)}`));
    return;
  }
  if (ctx.lifecycle.closing) {
    if (i.isRepliable()) await i.reply({ content: 'The bot is restarting; try again in a minute.', flags: MessageFlags.Ephemeral }).catch(() => undefined);
    return;
  }
  const key = `discord:interaction:${i.id}`;
  if (!ctx.dedupe.admit(key)) return;
  onAck(i, () => ctx.dedupe.persist(key));
  try {
    // The commands are registered for servers only (command-definitions.ts), but an older registration or
    // client can still send one from a DM: answer it, never leave it to time out in silence.
    if (i.isCommand() && !i.inGuild()) await i.reply({ content: DM_ANSWER, flags: MessageFlags.Ephemeral });
    else if (i.isChatInputCommand()) await routeChatInput(ctx, i);
    else if (i.isMessageContextMenuCommand() && i.commandName === CONTEXT_MENU_NAME) await handleContextMenu(ctx, i);
    else if (i.isCommand()) await i.reply({ content: 'I do not know that command any more (it may be left from an older version); try `/asyrp help`.', flags: MessageFlags.Ephemeral });
    else if (i.isButton() || i.isStringSelectMenu() || i.isModalSubmit()) {
      const id = parseCustomId(i.customId);
      if (i.isButton() && id?.kind === 'result') await handleResultButton(ctx, i, id.action, id.editId);
      else if (i.isButton() && id?.kind === 'pick-strength') await handlePickStrength(ctx, i, id);
      else if (i.isStringSelectMenu() && id?.kind === 'pick') await handlePickSelect(ctx, i, id.pickId);
      else if (i.isModalSubmit() && id?.kind === 'save') await handleSaveModal(ctx, i, id.editId);
      else if (i.isRepliable()) await i.reply({ content: 'That control is no longer supported; run the command again.', flags: MessageFlags.Ephemeral });
    }
  } catch (e) {
    if (i.isRepliable()) await replyWithError(ctx, i, e);
    else ctx.log.warn(`interaction failed: ${describeForLog(e)}`);
  }
}

async function routeChatInput(ctx: DiscordBotContext, i: ChatInputCommandInteraction): Promise<void> {
  const group = i.options.getSubcommandGroup(false);
  const sub = i.options.getSubcommand();
  // Commands that use the database (presets, settings, the account, link codes, help's emoji map)
  // acknowledge privately first; their answer edits that reply. `preset use` is an edit: it answers directly.
  if ((group === 'preset' && sub !== 'use') || group === 'admin' || sub === 'history' || sub === 'link' || sub === 'help') await i.deferReply({ flags: MessageFlags.Ephemeral });
  if (group === 'preset') return handlePresetCommand(ctx, i, sub);
  if (group === 'admin') return handleAdminCommand(ctx, i, sub);
  if (sub === 'edit') return runSlashEdit(ctx, i, i.options.getString('recipe', true));
  if (sub === 'history') return handleHistory(ctx, i);
  if (sub === 'help') return handleHelp(ctx, i);
  if (sub === 'link') return handleLink(ctx, i);
  // One subcommand per direction: `/asyrp smile strength:0.8`.
  const strength = i.options.getNumber('strength') ?? ctx.catalog.defaultStrength(sub);
  return runSlashEdit(ctx, i, `${sub}:${strength}`);
}

/** What a command used in a DM gets. */
export const DM_ANSWER =
  'Asyrp works in servers, not in direct messages: use `/asyrp` or **Apps → Edit with Asyrp** on an image in a server channel where I am (results go to a thread there).';

export async function replyWithError(ctx: DiscordBotContext, i: RepliableInteraction, e: unknown): Promise<void> {
  const friendly = toFriendlyError(e);
  if (friendly.logId) ctx.log.error(`[${friendly.logId}] ${describeForLog(e)}`);
  const content = `❌ ${fenceIndented(friendly.text)}`.slice(0, 2000);
  try {
    if (i.deferred || i.replied) await i.editReply({ content, components: [] });
    else await i.reply({ content, flags: MessageFlags.Ephemeral });
  } catch (e2) {
    ctx.log.warn(`could not send an error reply: ${describeForLog(e2)}`);
  }
}
