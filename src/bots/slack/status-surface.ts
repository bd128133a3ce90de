/**
 * How a running edit shows in Slack: a reaction on the source message (⏳, then ✅ or ⚠️) that
 * everyone in the channel sees at a glance, and one status message in the image's thread, updated in
 * place (the core's throttle keeps it to one update per interval, 2 s by default: chat.update is rate
 * limited). Status calls that fail never fail the edit: the result is what matters.
 */
import type { PendingStatus } from '../core/pending-edits.js';
import type { SlackBotContext } from './slack-context.js';

export const REACTION = { working: 'hourglass_flowing_sand', done: 'white_check_mark', failed: 'warning' } as const;

export interface StatusTarget {
  readonly channel: string;
  /** The message that gets the reaction; null when there is none to react on (e.g. a button). */
  readonly sourceTs: string | null;
  /** The thread that holds the status message and the result. */
  readonly threadTs: string;
  /** Who and what, prefixed to every status line (already escaped mrkdwn). */
  readonly lead: string;
}

export class SlackStatus {
  private statusTs: string | null = null;
  private lastAt = -Infinity;

  constructor(
    private readonly ctx: SlackBotContext,
    readonly target: StatusTarget,
    /** The status message a previous process posted (an edit resumed after a restart). */
    existingTs: string | null = null,
  ) {
    this.statusTs = existingTs;
  }

  /** Where this status is, for the pending list (the next start updates it). */
  where(): PendingStatus {
    return { kind: 'slack', statusTs: this.statusTs, sourceTs: this.target.sourceTs, lead: this.target.lead };
  }

  private async react(method: 'add' | 'remove', name: string): Promise<void> {
    if (!this.target.sourceTs) return;
    try {
      await this.ctx.client.reactions[method]({ channel: this.target.channel, timestamp: this.target.sourceTs, name });
    } catch {
      // already_reacted / no_reaction / missing reactions:write: cosmetic only.
    }
  }

  async start(text: string): Promise<void> {
    await this.react('add', REACTION.working);
    await this.update(text);
  }

  /**
   * A progress line. The core throttles its own lines, but its first one follows the "Queued" post
   * at once; lines inside the interval are dropped here (the next one is never far), the final is not.
   */
  async update(text: string, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastAt < this.ctx.statusIntervalMs) return;
    this.lastAt = now;
    const line = `${this.target.lead} ${text}`.slice(0, 3000);
    try {
      if (this.statusTs) {
        await this.ctx.client.chat.update({ channel: this.target.channel, ts: this.statusTs, text: line });
      } else {
        const res = await this.ctx.client.chat.postMessage({ channel: this.target.channel, thread_ts: this.target.threadTs, text: line, unfurl_links: false });
        this.statusTs = res.ts ?? null;
      }
    } catch (e) {
      this.ctx.log.warn(`status update failed: ${(e as { code?: string }).code ?? 'error'}`);
    }
  }

  /** Takes the status line and the ⏳ back: a refusal told privately leaves no trace in the channel. */
  async withdraw(): Promise<void> {
    if (this.statusTs) {
      try {
        await this.ctx.client.chat.delete({ channel: this.target.channel, ts: this.statusTs });
        this.statusTs = null;
      } catch (e) {
        this.ctx.log.warn(`could not remove a status line: ${(e as { code?: string }).code ?? 'error'}`);
      }
    }
    await this.react('remove', REACTION.working);
  }

  async finish(ok: boolean, text: string): Promise<void> {
    await this.update(text, true);
    await this.react('remove', REACTION.working);
    await this.react('add', ok ? REACTION.done : REACTION.failed);
  }
}
