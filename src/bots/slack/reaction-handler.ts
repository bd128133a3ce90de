/**
 * reaction_added: an emoji the workspace maps (or a default face for a direction the model has) on a
 * message with an image queues that edit. Bolt acks events before listeners run, and Slack retries an
 * event whose ack was slow; the event_id is deduplicated globally (see register-listeners), and each
 * (message, emoji, user) runs once here however often it is delivered or re-added.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { actorFor } from '../core/actors.js';
import { defaultEmojiMap, emojiRecipe } from '../core/default-emoji.js';
import { toFriendlyError } from '../core/friendly-errors.js';
import { performSlackEdit } from './edit-flow.js';
import { imageAt } from './find-image.js';
import { errorMrkdwn } from './mrkdwn.js';
import { downloadSlackFile } from './slack-files.js';
import type { SlackBotContext } from './slack-context.js';
import { emojiKey } from './slack-emoji.js';
import { requesterWithAdmin } from './slack-requester.js';

type Args = SlackEventMiddlewareArgs<'reaction_added'> & AllMiddlewareArgs;

export async function handleReaction(ctx: SlackBotContext, { event, body }: Args): Promise<void> {
  if (event.item.type !== 'message' || event.user === ctx.botUserId) return;
  const teamId = (body as { team_id?: string }).team_id ?? '';
  const { channel, ts } = event.item;
  const settings = ctx.storage.serverSettings.get('slack', teamId);
  if (!settings.reactionsEnabled) return;
  const emoji = emojiKey(event.reaction);
  const mapped = settings.emoji.find((e) => e.emoji === emoji);
  if (!mapped && !defaultEmojiMap(ctx.catalog.directionNames).has(emoji)) return; // an ordinary reaction
  // users.info (cached): the person's name for a first-contact account, and the admin flag.
  const requester = await requesterWithAdmin(ctx, { teamId, channelId: channel, userId: event.user });
  const actor = actorFor(ctx.storage, requester);
  const recipe = emojiRecipe(emoji, mapped, ctx.catalog.directionNames, (id) => {
    const p = ctx.storage.presets.get(actor, id);
    return `@${p.ownerHandle}/${p.name}`;
  });
  if (!recipe) return;
  const key = `slack:reaction:${teamId}:${channel}:${ts}:${emoji}:${event.user}`;
  if (!ctx.dedupe.admitAcked(key)) return; // an event: Bolt acked it before the listener ran
  const found = await imageAt(ctx, channel, ts);
  if (!found) return; // a reaction on a message without an image is just a reaction
  let prepared;
  try {
    prepared = ctx.edits.prepare(actor, recipe);
    ctx.edits.admit(requester);
  } catch (e) {
    await ctx.client.chat.postEphemeral({ channel, user: event.user, thread_ts: found.threadTs, text: `❌ ${errorMrkdwn(toFriendlyError(e).text)}` });
    return;
  }
  await performSlackEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: `${emoji} ${prepared.displayText}`,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: key,
    input: async () => ctx.edits.images.saveInput(await downloadSlackFile(found.file, { botToken: ctx.botToken, fileHosts: ctx.edits.allowedHosts, limits: ctx.edits.deps.limits })),
    where: { channel, sourceTs: ts, threadTs: found.threadTs },
  });
}
