/**
 * At start-up, Slack's twin of the Discord resume: edits a previous process accepted but never posted
 * (it crashed, or shut down and handed them over). The engine kept the jobs; follow each, upload the
 * result into its thread with the buttons, and turn the person's status message ("Queued #n", "editing…")
 * and the ⏳ reaction into the result, or into the error. A shutdown during this hands them over again.
 */
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { finishJob } from '../core/finish-job.js';
import { followJob } from '../core/follow-job.js';
import { HandedOver } from '../core/handed-over.js';
import type { PendingEdit } from '../core/pending-edits.js';
import { errorMrkdwn, escapeMrkdwn, mention } from './mrkdwn.js';
import type { SlackBotContext } from './slack-context.js';
import { SlackStatus } from './status-surface.js';
import { uploadResult } from './upload-result.js';

export async function resumeSlackEdits(ctx: SlackBotContext, options: { pollMs?: number } = {}): Promise<number> {
  const pending = ctx.edits.pending.list('slack');
  if (pending.length) ctx.log.info(`finishing ${pending.length} edit(s) left over from the last run`);
  await Promise.all(pending.map((p) => resumeOne(ctx, p, options.pollMs)));
  return pending.length;
}

async function resumeOne(ctx: SlackBotContext, p: PendingEdit, pollMs?: number): Promise<void> {
  const deps = ctx.edits.deps;
  const threadTs = p.threadTs ?? '';
  const saved = p.status?.kind === 'slack' ? p.status : null;
  const lead = saved?.lead ?? `${escapeMrkdwn(p.caption)} for ${mention(p.userId)}:`;
  const status = new SlackStatus(ctx, { channel: p.channelId, sourceTs: saved?.sourceTs ?? null, threadTs, lead }, saved?.statusTs ?? null);
  let handedOver = false;
  try {
    const final = await followJob(deps.engine, p.jobId, () => undefined, { ...(pollMs ? { pollMs } : {}), signal: ctx.lifecycle.handover.signal });
    const done = await finishJob(deps, ctx.edits.images, { editId: p.editId, jobId: p.jobId, kind: p.kind, final });
    const posted = await uploadResult(ctx, {
      editId: p.editId,
      channel: p.channelId,
      threadTs,
      captionMrkdwn: `${escapeMrkdwn(p.caption)} for ${mention(p.userId)} (finished after the bot restarted)`,
      after: done.after,
      compare: done.compare,
      original: done.original,
      note: done.domainNote,
      sweep: p.kind === 'sweep',
    });
    if (posted.fileId) ctx.storage.history.setMessage(p.editId, posted.fileId);
    await status.finish(true, posted.permalink ? `✅ Done: ${posted.permalink}` : '✅ Done');
  } catch (e) {
    if (e instanceof HandedOver) {
      handedOver = true;
      return;
    }
    ctx.log.warn(`could not finish edit ${p.editId} after a restart: ${describeForLog(e)}`);
    try {
      const entry = ctx.storage.history.lineage(p.editId).at(-1);
      if (entry && (entry.status === 'queued' || entry.status === 'running')) ctx.storage.history.finish(p.editId, { status: 'failed', errorCode: 'BOT_RESTART' });
      await status.finish(false, `⚠️ ${errorMrkdwn(toFriendlyError(e).text)}`);
    } catch (e2) {
      ctx.log.warn(`could not report a failed resumed edit: ${describeForLog(e2)}`);
    }
  } finally {
    if (!handedOver) ctx.edits.pending.remove(p.editId);
  }
}
