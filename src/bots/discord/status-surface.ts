/**
 * Where a job's status line lives. For commands and buttons it is the deferred interaction reply,
 * edited in place; once the 15-minute token has expired, the last word goes to the result channel as a
 * normal message instead. For reactions (no interaction) it is a bot message in the result thread.
 */
import { MessageFlags } from 'discord.js';
import type { Message, RepliableInteraction, SendableChannels } from 'discord.js';
import type { PendingStatus } from '../core/pending-edits.js';
import { isExpiredToken } from './discord-errors.js';

export interface StatusSurface {
  update(text: string): Promise<void>;
  /** The final line; `channel` is where a fallback message may go. */
  finish(text: string, fallback: SendableChannels | null): Promise<void>;
  /** Where this status line is, for the next start to update it (null: not shown yet). */
  where(): PendingStatus | null;
  /**
   * A refusal about the person's own file or recipe: the public status line is removed and they alone are
   * told. False when that is impossible here (no interaction, or its token has expired).
   */
  finishPrivately?(text: string): Promise<boolean>;
  /** Takes the public status line back (a refusal told to the person some other way). */
  withdraw?(): Promise<void>;
}

export function interactionStatus(i: RepliableInteraction): StatusSurface {
  let expired = false;
  return {
    async update(text) {
      if (expired) return;
      try {
        await i.editReply({ content: text, components: [] });
      } catch (e) {
        if (isExpiredToken(e)) expired = true;
        else throw e;
      }
    },
    async finish(text, fallback) {
      if (!expired) {
        try {
          await i.editReply({ content: text, components: [] });
          return;
        } catch (e) {
          if (!isExpiredToken(e)) throw e;
        }
      }
      // The token is gone: tell the person in the thread, as a normal message (mentions never ping).
      if (fallback) await fallback.send({ content: `<@${i.user.id}> ${text}`.slice(0, 2000) });
    },
    where: () => (expired ? null : { kind: 'discord-interaction', applicationId: i.applicationId, token: i.token }),
    async finishPrivately(text) {
      if (expired) return false;
      try {
        if (i.ephemeral) await i.editReply({ content: text, components: [] });
        else {
          // A deferred reply that was never edited would be replaced by the first follow-up (public, the
          // ephemeral flag ignored); edit it once so the follow-up is a message of its own.
          await i.editReply({ content: '…', components: [] });
          await i.followUp({ content: text, flags: MessageFlags.Ephemeral });
          await i.deleteReply();
        }
        return true;
      } catch (e) {
        if (isExpiredToken(e)) return false;
        throw e;
      }
    },
  };
}

export function messageStatus(channel: SendableChannels, lead: string): StatusSurface {
  let message: Message | null = null;
  const show = async (text: string) => {
    const content = `${lead} ${text}`.slice(0, 2000);
    if (message) await message.edit({ content });
    else message = await channel.send({ content });
  };
  return {
    update: show,
    finish: (text) => show(text),
    where: () => (message ? { kind: 'discord-message', channelId: message.channelId, messageId: message.id } : null),
    async withdraw() {
      await message?.delete();
      message = null;
    },
  };
}
