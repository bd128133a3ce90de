/**
 * Emoji reactions: an emoji the server maps (or a default face for a direction the model has) on a
 * message with an image queues that edit. Each (message, emoji, user) runs once, however often it is
 * delivered or re-added. Without MESSAGE_CONTENT the bot cannot see images in other people's messages,
 * so it says so instead of staying silent (a setting of the bot that concerns everyone who reacts).
 *
 * A refusal (an unknown preset, a channel that allows no edits, the person's quota, an image the engine
 * refuses) concerns only the person who reacted: a reaction has no interaction to answer privately, so
 * they get a DM, never a line in the channel. With their DMs closed, their reaction is taken back (the
 * visible sign that it did not run) and the refusal is logged.
 */
import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import { actorFor } from '../core/actors.js';
import { emojiRecipe } from '../core/default-emoji.js';
import { fenceIndented } from '../core/fence-indented.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { checkAttachment } from '../core/image-fetch.js';
import type { DiscordBotContext } from './bot-context.js';
import { performEdit } from './edit-flow.js';
import { imageIn, metaOf } from './find-image.js';
import { requesterOfUser } from './requester.js';
import { messageStatus } from './status-surface.js';

export const NO_CONTENT_INTENT_TEXT =
  'I cannot see the image in that message: this bot runs without the **Message Content** intent. Right-click the image → **Apps → Edit with Asyrp** instead, or ask the bot owner to enable the intent.';

export async function handleReaction(ctx: DiscordBotContext, r: MessageReaction | PartialMessageReaction, u: User | PartialUser): Promise<void> {
  if (u.bot || u.id === ctx.client.user?.id) return;
  const reaction = r.partial ? await r.fetch() : r;
  const message = reaction.message.partial ? await reaction.message.fetch() : reaction.message;
  const guildId = message.guildId;
  if (!guildId) return;
  const emoji = reaction.emoji.id ?? reaction.emoji.name ?? '';
  const settings = ctx.storage.serverSettings.get('discord', guildId);
  if (!settings.reactionsEnabled) return;
  const mapped = settings.emoji.find((e) => e.emoji === emoji);
  const user = u.partial ? await u.fetch() : u;
  const requester = requesterOfUser(user, { guildId, channelId: message.channelId });
  const actor = actorFor(ctx.storage, requester);
  const recipe = emojiRecipe(emoji, mapped, ctx.catalog.directionNames, (id) => {
    const p = ctx.storage.presets.get(actor, id);
    return `@${p.ownerHandle}/${p.name}`;
  });
  if (!recipe) return; // an ordinary reaction, not a command
  const key = `discord:reaction:${message.id}:${emoji}:${user.id}`;
  if (!ctx.dedupe.admitAcked(key)) return; // a gateway event: there is no ack to wait for
  const attachment = imageIn(message.attachments);
  if (!attachment) {
    if (!ctx.messageContent && message.author.id !== ctx.client.user?.id) await message.reply({ content: NO_CONTENT_INTENT_TEXT });
    return;
  }
  const privately = (text: string) => tellReactor(ctx, reaction, user, `Your ${emoji} on ${message.url} did not run:\n${text}`);
  let prepared;
  try {
    prepared = ctx.edits.prepare(actor, recipe);
    checkAttachment(metaOf(attachment), ctx.edits.deps.limits, ctx.edits.allowedHosts);
    ctx.edits.admit(requester);
  } catch (e) {
    const friendly = toFriendlyError(e);
    if (friendly.logId) ctx.log.error(`[${friendly.logId}] reaction refused: ${describeForLog(e)}`);
    await privately(`❌ ${fenceIndented(friendly.text)}`);
    return;
  }
  await performEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: `${emoji} **${prepared.displayText}**`,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: key,
    input: () => ctx.edits.fetchInput(metaOf(attachment)),
    anchor: { channelId: message.channelId, messageId: async () => message.id },
    status: (channel) => messageStatus(channel, `${emoji} for <@${user.id}>:`),
    privately,
  });
}

/** A DM to the person who reacted; with their DMs closed, their reaction is removed and the refusal logged. */
async function tellReactor(ctx: DiscordBotContext, reaction: MessageReaction, user: User, text: string): Promise<void> {
  try {
    await user.send({ content: text.slice(0, 2000), allowedMentions: { parse: [] } });
    return;
  } catch (e) {
    ctx.log.info(`a refused reaction could not be told by DM (${describeForLog(e)}); removing the reaction instead`);
  }
  // Needs Manage Messages in the channel; without it the reaction stays and the log line is all there is.
  await reaction.users.remove(user.id).catch((e: unknown) => ctx.log.warn(`could not remove a refused reaction: ${describeForLog(e)}`));
}
