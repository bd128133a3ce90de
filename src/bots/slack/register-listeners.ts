/**
 * Wires every Slack listener to its handler. One global middleware drops redelivered events: Slack
 * retries an event (same event_id, X-Slack-Retry-Num) when the first ack was slow, and in Socket Mode
 * after a reconnect. Bolt has acked an event before any middleware runs; the event_id is decided in
 * memory by the dedupe ledger and written to the database after, so a retry that arrives after a
 * restart is dropped too. Listener errors are logged by code only (never a payload: it may hold response_url).
 *
 * Ack first (issue #31): each listener's ack() is wrapped so that what follows it waits until no other
 * request is still waiting for its answer (ctx.intake, see core/ack-first.ts); an event, which Bolt acked
 * before any listener ran, waits the same way before its listener starts. A burst of commands is
 * answered first, and its edits are set up after.
 */
import type { App } from '@slack/bolt';
import { describeForLog } from '../core/friendly-errors.js';
import { EDIT_VIEW_ID, handleEditSubmit, handleShortcut, SHORTCUT_ID } from './edit-modal.js';
import { handleMention } from './mention-handler.js';
import { handleReaction } from './reaction-handler.js';
import { handleResultAction, handleSaveSubmit } from './result-actions.js';
import { RESULT_ACTION_PATTERN, SAVE_VIEW_PATTERN } from './result-blocks.js';
import type { SlackBotContext } from './slack-context.js';
import { handleSlashCommand } from './slash-command.js';
import { redactSlack } from './slack-logger.js';

export const COMMAND_NAME = '/asyrp';

export function registerListeners(app: App, ctx: SlackBotContext): void {
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !ctx.dedupe.admitAcked(`slack:event:${eventId}`)) return;
    await next();
  });
  const guard =
    <A>(what: string, fn: (ctx: SlackBotContext, args: A) => Promise<void>) =>
    async (args: A) => {
      // Every line of one request carries its id: the event's, else the trigger's, else the view's.
      const log = ctx.log.child({ interaction: interactionId((args as { body?: unknown }).body) });
      // Tracked, so that a shutdown waits for each run to hand its edit over before storage closes.
      const run = runAckFirst(ctx, args, (a) => fn({ ...ctx, log }, a)).catch((e: unknown) => log.error(`slack ${what} failed: ${redactSlack(describeForLog(e))}`));
      ctx.lifecycle.inFlight.add(run);
      try {
        await run;
      } finally {
        ctx.lifecycle.inFlight.delete(run);
      }
    };
  app.command(COMMAND_NAME, guard('command', handleSlashCommand));
  app.shortcut({ callback_id: SHORTCUT_ID, type: 'message_action' }, guard('shortcut', handleShortcut));
  app.view(EDIT_VIEW_ID, guard('edit modal', handleEditSubmit));
  app.view(SAVE_VIEW_PATTERN, guard('save modal', handleSaveSubmit));
  app.action(RESULT_ACTION_PATTERN, guard('button', handleResultAction));
  app.event('reaction_added', guard('reaction', handleReaction));
  app.event('app_mention', guard('mention', handleMention));
  app.error(async (e) => ctx.log.error(`slack: ${redactSlack(describeForLog(e))}`));
}

type AckFn = (response?: unknown) => Promise<void>;

async function runAckFirst<A>(ctx: SlackBotContext, args: A, fn: (args: A) => Promise<void>): Promise<void> {
  const ack = (args as { ack?: AckFn }).ack;
  if (!ack) {
    await ctx.intake.idle(); // an event: already acknowledged
    return fn(args);
  }
  const ackThenYield: AckFn = async (response) => {
    await ack(response);
    await ctx.intake.idle();
  };
  return fn({ ...args, ack: ackThenYield });
}

function interactionId(body: unknown): string {
  const b = (body ?? {}) as { event_id?: unknown; trigger_id?: unknown; view?: { id?: unknown } };
  for (const v of [b.event_id, b.trigger_id, b.view?.id]) if (typeof v === 'string' && v) return v;
  return 'unknown';
}
