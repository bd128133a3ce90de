/**
 * At start-up: edits a previous bot process accepted but never posted (it died mid-edit, or it shut
 * down and handed them over). The engine kept the jobs; wait for each, post the result in its thread
 * with the buttons (as a normal message naming the person), and turn the person's status line ("Queued
 * #n", "editing…") into the result or the error: through the interaction token while it is valid
 * (15 minutes), else by editing the bot's status message. A shutdown during this hands them over again.
 */
import { Routes } from 'discord.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { finishJob } from '../core/finish-job.js';
import { followJob } from '../core/follow-job.js';
import { HandedOver } from '../core/handed-over.js';
import type { PendingEdit, PendingStatus } from '../core/pending-edits.js';
import type { DiscordBotContext } from './bot-context.js';
import { postResult } from './result-message.js';

export async function resumePendingEdits(ctx: DiscordBotContext, options: { pollMs?: number } = {}): Promise<number> {
  const pending = ctx.edits.pending.list('discord');
  if (pending.length) ctx.log.info(`finishing ${pending.length} edit(s) left over from the last run`);
  await Promise.all(pending.map((p) => resumeOne(ctx, p, options.pollMs)));
  return pending.length;
}

async function resumeOne(ctx: DiscordBotContext, p: PendingEdit, pollMs?: number): Promise<void> {
  const deps = ctx.edits.deps;
  let handedOver = false;
  try {
    const channel = await ctx.client.channels.fetch(p.channelId);
    if (!channel?.isSendable()) throw new Error('the result channel is gone');
    try {
      const final = await followJob(deps.engine, p.jobId, () => undefined, { ...(pollMs ? { pollMs } : {}), signal: ctx.lifecycle.handover.signal });
      const done = await finishJob(deps, ctx.edits.images, { editId: p.editId, jobId: p.jobId, kind: p.kind, final });
      const posted = await postResult(channel, {
        editId: p.editId,
        caption: `${p.caption} for <@${p.userId}> (finished after the bot restarted)`,
        after: done.after,
        compare: done.compare,
        original: done.original,
        note: done.domainNote,
        sweep: p.kind === 'sweep',
      });
      ctx.storage.history.setMessage(p.editId, posted.id);
      await updateStatus(ctx, p.status, `✅ Done: ${posted.url}`);
    } catch (e) {
      if (e instanceof HandedOver) {
        handedOver = true;
        return;
      }
      const entry = ctx.storage.history.lineage(p.editId).at(-1);
      if (entry && (entry.status === 'queued' || entry.status === 'running')) ctx.storage.history.finish(p.editId, { status: 'failed', errorCode: 'BOT_RESTART' });
      const text = `❌ ${toFriendlyError(e).text}`;
      await channel.send({ content: `<@${p.userId}> ${text}`.slice(0, 2000) });
      await updateStatus(ctx, p.status, text);
    }
  } catch (e) {
    ctx.log.warn(`could not finish edit ${p.editId} after a restart: ${describeForLog(e)}`);
  } finally {
    if (!handedOver) ctx.edits.pending.remove(p.editId);
  }
}

/** The last word on the person's original status line; a status that cannot be edited any more is left. */
async function updateStatus(ctx: DiscordBotContext, status: PendingStatus | undefined, text: string): Promise<void> {
  const content = text.slice(0, 2000);
  try {
    if (status?.kind === 'discord-interaction') {
      // Webhook routes authenticate with the interaction token, not the bot token.
      await ctx.client.rest.patch(Routes.webhookMessage(status.applicationId, status.token, '@original'), { body: { content, components: [] }, auth: false });
    } else if (status?.kind === 'discord-message') {
      const channel = await ctx.client.channels.fetch(status.channelId);
      if (channel?.isSendable()) await channel.messages.edit(status.messageId, { content });
    }
  } catch (e) {
    // Typically an interaction token older than 15 minutes: the result itself is posted, which matters.
    ctx.log.warn(`could not update the status of a resumed edit: ${describeForLog(e)}`);
  }
}
