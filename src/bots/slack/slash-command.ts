/**
 * `/asyrp ...`. Everything Slack needs within 3 s happens before ack(): the route, the recipe and the
 * limits are checked synchronously, reading but never writing, and the answer (a private "working on
 * it", or a private refusal) is the ack body itself. The account, the history and the slow parts
 * (finding the image, the job) come after the ack. Commands are not retried by Slack, but a double
 * submit is possible, so each trigger_id is admitted once (in memory; persisted after the ack).
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { actorFor, knownActor } from '../core/actors.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { parseCommandText } from './command-text.js';
import { downloadSlackFile } from './slack-files.js';
import { NO_IMAGE_HINT, recentImageOf } from './find-image.js';
import { performSlackEdit } from './edit-flow.js';
import { errorMrkdwn, escapeMrkdwn } from './mrkdwn.js';
import { slackErrorCode, slackFriendlyText } from './slack-errors.js';
import { requesterOf } from './slack-requester.js';
import type { SlackBotContext } from './slack-context.js';
import { textCommand } from './text-commands.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** Slack drops a command not acked within 3 s; leave room for the network. */
export const TEXT_ACK_BUDGET_MS = 2000;

export async function handleSlashCommand(ctx: SlackBotContext, { command, ack, respond }: Args): Promise<void> {
  const key = `slack:command:${command.trigger_id}`;
  if (!ctx.dedupe.admit(key)) {
    await ack();
    return;
  }
  // Every answer below is the ack; the trigger id is written to the database right after it.
  const acked = async (answer: Parameters<typeof ack>[0]) => {
    await ack(answer);
    ctx.dedupe.persist(key);
  };
  const who = { teamId: command.team_id, channelId: command.channel_id, userId: command.user_id, userName: command.user_name };
  let route;
  try {
    route = parseCommandText(command.text ?? '', (d) => (ctx.catalog.directionNames.includes(d) ? ctx.catalog.defaultStrength(d) : undefined));
  } catch (e) {
    await acked({ response_type: 'ephemeral', text: errorText(ctx, e) });
    return;
  }
  if (route.kind !== 'edit') {
    const answer = textCommand(ctx, who, route).catch((e: unknown) => errorText(ctx, e));
    // Admin commands ask users.info first; if Slack is slow, ack in time and answer through response_url.
    const quick = await Promise.race([answer, new Promise<null>((r) => setTimeout(() => r(null), TEXT_ACK_BUDGET_MS).unref())]);
    if (quick !== null) {
      await acked({ response_type: 'ephemeral', text: quick });
      return;
    }
    await acked({ response_type: 'ephemeral', text: '⏳ One moment…' });
    await respond({ response_type: 'ephemeral', replace_original: true, text: await answer });
    return;
  }
  const requester = requesterOf(who);
  let prepared;
  try {
    prepared = ctx.edits.prepare(knownActor(ctx.storage, requester), route.recipe);
    ctx.edits.admit(requester);
  } catch (e) {
    await acked({ response_type: 'ephemeral', text: errorText(ctx, e) });
    return;
  }
  await acked({ response_type: 'ephemeral', text: `⏳ Working on \`${escapeMrkdwn(prepared.displayText)}\`: the result comes in your image's thread.` });
  const actor = actorFor(ctx.storage, requester);

  let found;
  try {
    found = await recentImageOf(ctx, command.channel_id, command.user_id);
  } catch (e) {
    // Typically not_in_channel: the command works in any channel, reading it needs membership.
    ctx.log.warn(`conversations.history failed: ${slackErrorCode(e) ?? describeForLog(e)}`);
    await respond({ response_type: 'ephemeral', replace_original: true, text: slackFriendlyText(e) ?? errorText(ctx, e) });
    return;
  }
  if (!found) {
    await respond({ response_type: 'ephemeral', replace_original: true, text: NO_IMAGE_HINT });
    return;
  }
  const file = found.file;
  await performSlackEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: prepared.displayText,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: `slack:command:${command.trigger_id}`,
    input: async () =>
      ctx.edits.images.saveInput(await downloadSlackFile(file, { botToken: ctx.botToken, fileHosts: ctx.edits.allowedHosts, limits: ctx.edits.deps.limits })),
    where: { channel: command.channel_id, sourceTs: found.message.ts, threadTs: found.threadTs },
  });
}

export function errorText(ctx: SlackBotContext, e: unknown): string {
  const friendly = toFriendlyError(e);
  if (friendly.logId) ctx.log.error(`[${friendly.logId}] ${describeForLog(e)}`);
  return `❌ ${errorMrkdwn(friendly.text)}`.slice(0, 3000);
}
