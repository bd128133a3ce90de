/**
 * `/asyrp ...`. Slack drops a command not acked within 3 s, and a burst of them shares one event loop,
 * so the ack is decided in memory only: the words are routed and a recipe is checked against the
 * grammar, nothing reads or writes storage and nothing calls Slack or the engine first (issue #31). A
 * recipe the grammar refuses is answered in the ack itself; an edit is acked with a private "working on
 * it", then its presets, limits and account are resolved and a refusal replaces that line through
 * response_url. The other words (help, history, presets, link, admin) are acked empty and answered
 * through response_url. Commands are not retried by Slack, but a double submit is possible, so each
 * trigger_id is admitted once (in memory; persisted after the ack).
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { actorFor, knownActor } from '../core/actors.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { typedRecipe } from '../core/resolve-recipe.js';
import { parseCommandText } from './command-text.js';
import type { CommandRoute } from './command-text.js';
import { downloadSlackFile } from './slack-files.js';
import { NO_IMAGE_HINT, recentImageOf } from './find-image.js';
import { performSlackEdit } from './edit-flow.js';
import { errorMrkdwn, escapeMrkdwn } from './mrkdwn.js';
import { slackErrorCode, slackFriendlyText } from './slack-errors.js';
import { requesterOf } from './slack-requester.js';
import type { SlackBotContext } from './slack-context.js';
import { textCommand } from './text-commands.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export async function handleSlashCommand(ctx: SlackBotContext, { command, ack, respond }: Args): Promise<void> {
  const key = `slack:command:${command.trigger_id}`;
  if (!ctx.dedupe.admit(key)) {
    await ack();
    return;
  }
  // Every answer below is the ack; the trigger id is written to the database right after it.
  const acked = async (answer?: Parameters<typeof ack>[0]) => {
    await ack(answer);
    ctx.dedupe.persist(key);
  };
  const who = { teamId: command.team_id, channelId: command.channel_id, userId: command.user_id, userName: command.user_name };
  let route: CommandRoute;
  let typed = '';
  try {
    route = parseCommandText(command.text ?? '', (d) => (ctx.catalog.directionNames.includes(d) ? ctx.catalog.defaultStrength(d) : undefined));
    if (route.kind === 'edit') typed = typedRecipe(route.recipe, ctx.catalog.directionNames);
  } catch (e) {
    await acked({ response_type: 'ephemeral', text: errorText(ctx, e) });
    return;
  }
  if (route.kind !== 'edit') {
    await acked();
    const answer = await textCommand(ctx, who, route).catch((e: unknown) => errorText(ctx, e));
    await respond({ response_type: 'ephemeral', text: answer });
    return;
  }
  await acked({ response_type: 'ephemeral', text: `⏳ Working on \`${escapeMrkdwn(typed)}\`: the result comes in your image's thread.` });
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: true, text });
  const requester = requesterOf(who);
  let prepared;
  try {
    prepared = ctx.edits.prepare(knownActor(ctx.edits.model, requester), route.recipe);
    ctx.edits.admit(requester);
  } catch (e) {
    await tell(errorText(ctx, e));
    return;
  }
  const actor = actorFor(ctx.storage, requester);

  let found;
  try {
    found = await recentImageOf(ctx, command.channel_id, command.user_id);
  } catch (e) {
    // Typically not_in_channel: the command works in any channel, reading it needs membership.
    ctx.log.warn(`conversations.history failed: ${slackErrorCode(e) ?? describeForLog(e)}`);
    await tell(slackFriendlyText(e) ?? errorText(ctx, e));
    return;
  }
  if (!found) {
    await tell(NO_IMAGE_HINT);
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
