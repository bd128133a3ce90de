/**
 * `/asyrp <direction> [strength] [image]`, `/asyrp edit recipe: [image]` and `/asyrp preset use`.
 * Fast checks (recipe, limits, attachment metadata) run before the acknowledgement so that a refusal
 * is private; they read but never write. Then deferReply, and only after it the account is created or
 * updated, the image fetched and the job run with status edits.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { actorFor, knownActor } from '../core/actors.js';
import { checkAttachment } from '../core/image-fetch.js';
import type { AttachmentMeta } from '../core/image-fetch.js';
import type { DiscordBotContext } from './bot-context.js';
import { performEdit } from './edit-flow.js';
import { latestImage, metaOf, NO_IMAGE_HINT } from './find-image.js';
import { requesterOf } from './requester.js';
import { interactionStatus } from './status-surface.js';

export async function runSlashEdit(ctx: DiscordBotContext, i: ChatInputCommandInteraction, recipeText: string): Promise<void> {
  const requester = requesterOf(i);
  const prepared = ctx.edits.prepare(knownActor(ctx.edits.model, requester), recipeText);
  const attachment = i.options.getAttachment('image');
  if (attachment) checkAttachment(metaOf(attachment), ctx.edits.deps.limits, ctx.edits.allowedHosts);
  ctx.edits.admit(requester);
  await i.deferReply();
  const actor = actorFor(ctx.storage, requester);

  let meta: AttachmentMeta;
  let anchor: () => Promise<string | null>;
  if (attachment) {
    meta = metaOf(attachment);
    // The image came with the command: the bot's own reply is the message the thread hangs on.
    anchor = async () => (await i.fetchReply()).id;
  } else {
    // Threads the client has not cached yet arrive without a channel object.
    const channel = i.channel ?? (await ctx.client.channels.fetch(i.channelId).catch(() => null));
    const found = await latestImage(channel && channel.isTextBased() ? channel : null);
    if (!found) {
      await i.editReply({ content: ctx.messageContent ? NO_IMAGE_HINT : `${NO_IMAGE_HINT}\n(I cannot see images in other people's messages: the bot's MESSAGE CONTENT intent is off.)` });
      return;
    }
    meta = metaOf(found.attachment);
    anchor = async () => found.message.id;
  }
  await performEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: `**${prepared.displayText}**`,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: `discord:i:${i.id}`,
    input: () => ctx.edits.fetchInput(meta),
    anchor: { channelId: i.channelId, messageId: anchor },
    status: interactionStatus(i),
  });
}
