/**
 * The Discord side of one edit, shared by slash commands, buttons, the context menu and reactions:
 * get the input, run the job through the core with status updates, post the result in the thread,
 * remember which message shows it, and close the status line. Failures become friendly words.
 */
import type { SendableChannels } from 'discord.js';
import type { Actor } from '../../storage/index.js';
import { concernsOnlyThem, describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { fenceIndented } from '../core/fence-indented.js';
import { HandedOver } from '../core/handed-over.js';
import type { EditJob } from '../core/run-bot-edit.js';
import type { Requester } from '../core/types.js';
import type { DiscordBotContext } from './bot-context.js';
import { openResultChannel, postResult } from './result-message.js';
import type { StatusSurface } from './status-surface.js';

export interface DiscordEdit {
  readonly requester: Requester;
  readonly actor: Actor;
  readonly recipe: string;
  readonly caption: string;
  readonly presetId?: number | null;
  readonly parentId?: number | null;
  readonly kind?: EditJob['kind'];
  readonly modelId?: string;
  readonly idempotencyKey: string;
  /** The input image (downloaded or stored). Called after the status surface exists. */
  readonly input: () => Promise<{ path: string; hash: string }>;
  /** The message whose thread gets the result, or a function that learns it (the deferred reply). */
  readonly anchor: { channelId: string; messageId: () => Promise<string | null> };
  readonly status: StatusSurface | ((channel: SendableChannels) => StatusSurface);
  /**
   * Tells the person alone where the status surface cannot (reactions have no interaction: a DM).
   * A refusal about their own file or recipe then leaves nothing public behind.
   */
  readonly privately?: (text: string) => Promise<void>;
}

export async function performEdit(ctx: DiscordBotContext, e: DiscordEdit): Promise<void> {
  let channel: SendableChannels | null = null;
  let createdThread = false;
  let editId: number | null = null;
  let handedOver = false;
  let status: StatusSurface | null = typeof e.status === 'function' ? null : e.status;
  const release = await ctx.edits.setupSlots.acquire();
  try {
    // Download first: a refused image should not leave an empty thread behind.
    const input = await e.input();
    ({ channel, createdThread } = await openResultChannel(ctx.client, {
      channelId: e.anchor.channelId,
      messageId: await e.anchor.messageId(),
      threadName: `Asyrp: ${e.caption.replace(/[*`<>@]/g, '')}`,
    }));
    if (!status) status = (e.status as (c: SendableChannels) => StatusSurface)(channel);
    const target = channel;
    const surface = status;
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
      location: { channelId: channel.id, threadId: channel.isThread() ? channel.id : null },
      onStatus: (text) => surface.update(text),
      statusIntervalMs: ctx.statusIntervalMs,
      onSubmitted: (job) => {
        release();
        editId = job.editId;
        const where = surface.where();
        ctx.edits.pending.add({
          ...job,
          kind: e.kind ?? 'edit',
          platform: 'discord',
          userId: e.requester.userId,
          channelId: target.id,
          caption: e.caption,
          createdAt: Date.now(),
          ...(where ? { status: where } : {}),
        });
      },
      signal: ctx.lifecycle.handover.signal,
    });
    const note = outcome.cacheHit ? ' (re-used the inversion: fast)' : '';
    const posted = await postResult(channel, {
      editId: outcome.entry.id,
      caption: `${e.caption} for <@${e.requester.userId}>${note}`,
      after: outcome.after,
      compare: outcome.compare,
      original: outcome.original,
      note: outcome.domainNote,
      sweep: e.kind === 'sweep',
    });
    ctx.storage.history.setMessage(outcome.entry.id, posted.id);
    await surface.finish(`✅ Done: ${posted.url}`, channel);
  } catch (err) {
    if (err instanceof HandedOver && editId !== null) {
      // Shutting down: the edit stays on the pending list, with where its status line is by now.
      handedOver = true;
      const where = status?.where();
      if (where) ctx.edits.pending.update(editId, { status: where });
      return;
    }
    const friendly = toFriendlyError(err);
    if (friendly.logId) ctx.log.error(`[${friendly.logId}] edit failed: ${describeForLog(err)}`);
    try {
      // About their own file or recipe: no empty thread and no public status line; they alone are told.
      if (concernsOnlyThem(err) && (await tellPrivately(status, e.privately, `❌ ${fenceIndented(friendly.text)}`.slice(0, 2000)))) {
        if (createdThread && channel?.isThread()) await channel.delete('the edit was refused').catch((e3: unknown) => ctx.log.warn(`could not remove an empty thread: ${describeForLog(e3)}`));
        return;
      }
      if (status) await status.finish(`❌ ${friendly.text}`, channel);
    } catch (e2) {
      ctx.log.warn(`could not report a failed edit: ${describeForLog(e2)}`);
    }
  } finally {
    release();
    if (editId !== null && !handedOver) ctx.edits.pending.remove(editId);
  }
}

/** The status surface's own private answer (an interaction's), else the edit's (a DM), the public line withdrawn. */
async function tellPrivately(status: StatusSurface | null, privately: DiscordEdit['privately'], text: string): Promise<boolean> {
  if (status?.finishPrivately && (await status.finishPrivately(text))) return true;
  if (!privately) return false;
  await status?.withdraw?.();
  await privately(text);
  return true;
}
