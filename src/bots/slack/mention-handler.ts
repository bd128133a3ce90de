/**
 * `@asyrp smile 0.8` in a message with an image, or in a thread that holds one: the text after the
 * mention is the recipe (the same words as the slash command), the image is the message's own or the
 * newest in the thread. Replies go in the thread; refusals are private to the person.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { actorFor } from '../core/actors.js';
import { toFriendlyError } from '../core/friendly-errors.js';
import { parseCommandText } from './command-text.js';
import { performSlackEdit } from './edit-flow.js';
import { foundIn, latestImageInThread, NO_IMAGE_HINT } from './find-image.js';
import { errorMrkdwn } from './mrkdwn.js';
import type { SlackMessage } from './slack-files.js';
import { downloadSlackFile } from './slack-files.js';
import type { SlackBotContext } from './slack-context.js';
import { requesterWithAdmin } from './slack-requester.js';

type Args = SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs;

export async function handleMention(ctx: SlackBotContext, { event, body }: Args): Promise<void> {
  const user = event.user;
  if (!user || user === ctx.botUserId) return;
  const teamId = (body as { team_id?: string }).team_id ?? event.team ?? '';
  const channel = event.channel;
  const threadTs = event.thread_ts ?? event.ts;
  const tell = (text: string) => ctx.client.chat.postEphemeral({ channel, user, thread_ts: threadTs, text });
  const key = `slack:mention:${teamId}:${channel}:${event.ts}`;
  if (!ctx.dedupe.admitAcked(key)) return; // an event: Bolt acked it before the listener ran
  const text = (event.text ?? '').replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, ' ').trim();
  const route = parseCommandText(text, (d) => (ctx.catalog.directionNames.includes(d) ? ctx.catalog.defaultStrength(d) : undefined));
  if (route.kind !== 'edit') {
    await tell('Mention me with a recipe next to an image, like `@asyrp smile 0.8`. `/asyrp help` says more.');
    return;
  }
  // users.info (cached): the person's name for a first-contact account, and the admin flag.
  const requester = await requesterWithAdmin(ctx, { teamId, channelId: channel, userId: user });
  const actor = actorFor(ctx.storage, requester);
  let prepared;
  try {
    prepared = ctx.edits.prepare(actor, route.recipe);
    ctx.edits.admit(requester);
  } catch (e) {
    await tell(`❌ ${errorMrkdwn(toFriendlyError(e).text)}`);
    return;
  }
  const own = foundIn(event as unknown as SlackMessage);
  const found = own ?? (event.thread_ts ? await latestImageInThread(ctx, channel, event.thread_ts) : undefined);
  if (!found) {
    await tell(NO_IMAGE_HINT);
    return;
  }
  await performSlackEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: prepared.displayText,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: key,
    input: async () => ctx.edits.images.saveInput(await downloadSlackFile(found.file, { botToken: ctx.botToken, fileHosts: ctx.edits.allowedHosts, limits: ctx.edits.deps.limits })),
    where: { channel, sourceTs: found.message.ts, threadTs: found.threadTs },
  });
}
