/**
 * The Slack side of one edit, shared by the slash command, the shortcut modal, mentions, reactions and
 * buttons: show the status (reaction + thread message), get the input, run the job through the core,
 * upload the result into the image's thread with files.uploadV2 (edited image and before/after) and
 * the result buttons, remember the file, and close the status. Failures become friendly words.
 */
import { concernsOnlyThem, describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { HandedOver } from '../core/handed-over.js';
import type { EditJob } from '../core/run-bot-edit.js';
import type { Requester } from '../core/types.js';
import type { Actor } from '../../storage/index.js';
import { errorMrkdwn, escapeMrkdwn, mention } from './mrkdwn.js';
import { slackFriendlyText } from './slack-errors.js';
import { uploadResult } from './upload-result.js';
import type { SlackBotContext } from './slack-context.js';
import { SlackStatus } from './status-surface.js';
import type { StatusTarget } from './status-surface.js';

export interface SlackEdit {
  readonly requester: Requester;
  readonly actor: Actor;
  /** Directions only (resolved). */
  readonly recipe: string;
  /** What the result shows, plain text (escaped here). */
  readonly caption: string;
  readonly presetId?: number | null;
  readonly parentId?: number | null;
  readonly kind?: EditJob['kind'];
  readonly modelId?: string;
  readonly idempotencyKey: string;
  /** The input image (downloaded or stored); called after the status is showing. */
  readonly input: () => Promise<{ path: string; hash: string }>;
  readonly where: Omit<StatusTarget, 'lead'>;
}

export async function performSlackEdit(ctx: SlackBotContext, e: SlackEdit): Promise<void> {
  const who = mention(e.requester.userId);
  const caption = escapeMrkdwn(e.caption);
  const status = new SlackStatus(ctx, { ...e.where, lead: `${caption} for ${who}:` });
  let editId: number | null = null;
  let handedOver = false;
  const release = await ctx.edits.setupSlots.acquire();
  try {
    await status.start('⏳ Queued');
    const input = await e.input();
    const outcome = await ctx.edits.run({
      requester: e.requester,
      actor: e.actor,
      input,
      recipe: e.recipe,
      ...(e.modelId ? { modelId: e.modelId } : {}),
      presetId: e.presetId ?? null,
      parentId: e.parentId ?? null,
      kind: e.kind ?? 'edit',
      idempotencyKey: e.idempotencyKey,
      location: { channelId: e.where.channel, threadId: e.where.threadTs },
      onStatus: (text) => status.update(text),
      statusIntervalMs: ctx.statusIntervalMs,
      // Accepted by the engine: on the pending list until posted, so a restart or a crash finishes it.
      onSubmitted: (job) => {
        release();
        editId = job.editId;
        ctx.edits.pending.add({
          ...job,
          kind: e.kind ?? 'edit',
          platform: 'slack',
          userId: e.requester.userId,
          channelId: e.where.channel,
          threadTs: e.where.threadTs,
          caption: e.caption,
          createdAt: Date.now(),
          status: status.where(),
        });
      },
      signal: ctx.lifecycle.handover.signal,
    });
    const note = outcome.cacheHit ? ' (re-used the inversion: fast)' : '';
    const posted = await uploadResult(ctx, {
      editId: outcome.entry.id,
      channel: e.where.channel,
      threadTs: e.where.threadTs,
      captionMrkdwn: `${caption} for ${who}${note}`,
      after: outcome.after,
      compare: outcome.compare,
      original: outcome.original,
      note: outcome.domainNote,
      sweep: e.kind === 'sweep',
    });
    if (posted.fileId) ctx.storage.history.setMessage(outcome.entry.id, posted.fileId);
    await status.finish(true, posted.permalink ? `✅ Done: ${posted.permalink}` : '✅ Done');
  } catch (err) {
    if (err instanceof HandedOver && editId !== null) {
      handedOver = true;
      ctx.edits.pending.update(editId, { status: status.where() }); // the status message exists by now
      return;
    }
    const slackWords = slackFriendlyText(err);
    const friendly = slackWords ? { text: slackWords } : toFriendlyError(err);
    if ('logId' in friendly && friendly.logId) ctx.log.error(`[${friendly.logId}] slack edit failed: ${describeForLog(err)}`);
    if (!slackWords && concernsOnlyThem(err)) {
      // About their own file or recipe: to them alone, and the status line and ⏳ taken back.
      await status.withdraw();
      await ctx.client.chat
        .postEphemeral({ channel: e.where.channel, user: e.requester.userId, thread_ts: e.where.threadTs, text: `⚠️ ${errorMrkdwn(friendly.text)}` })
        .catch((e2: unknown) => ctx.log.warn(`could not report a refused edit: ${describeForLog(e2)}`));
      return;
    }
    await status.finish(false, `⚠️ ${slackWords ?? errorMrkdwn(friendly.text)}`).catch((e2: unknown) => ctx.log.warn(`could not report a failed edit: ${describeForLog(e2)}`));
  } finally {
    release();
    if (editId !== null && !handedOver) ctx.edits.pending.remove(editId);
  }
}
