/**
 * At start-up: edits a previous bot process accepted but never posted (it died mid-edit). The engine
 * kept the jobs; wait for each, post the result in its thread with the buttons (the interaction token
 * is long gone, so as a normal message naming the person), or say that it failed.
 */
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { finishJob } from '../core/finish-job.js';
import { followJob } from '../core/follow-job.js';
import type { PendingEdit } from '../core/pending-edits.js';
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
  try {
    const channel = await ctx.client.channels.fetch(p.channelId);
    if (!channel?.isSendable()) throw new Error('the result channel is gone');
    try {
      const final = await followJob(deps.engine, p.jobId, () => undefined, pollMs ? { pollMs } : {});
      const done = await finishJob(deps, ctx.edits.images, { editId: p.editId, jobId: p.jobId, kind: p.kind, final });
      const posted = await postResult(channel, {
        editId: p.editId,
        caption: `${p.caption} for <@${p.userId}> (finished after the bot restarted)`,
        after: done.after,
        compare: done.compare,
        sweep: p.kind === 'sweep',
      });
      ctx.storage.history.setMessage(p.editId, posted.id);
    } catch (e) {
      const entry = ctx.storage.history.lineage(p.editId).at(-1);
      if (entry && (entry.status === 'queued' || entry.status === 'running')) ctx.storage.history.finish(p.editId, { status: 'failed', errorCode: 'BOT_RESTART' });
      await channel.send({ content: `<@${p.userId}> ❌ ${toFriendlyError(e).text}`.slice(0, 2000) });
    }
  } catch (e) {
    ctx.log.warn(`could not finish edit ${p.editId} after a restart: ${describeForLog(e)}`);
  } finally {
    ctx.edits.pending.remove(p.editId);
  }
}
