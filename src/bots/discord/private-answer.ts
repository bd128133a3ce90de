/**
 * A private answer to a command: the ephemeral reply itself, or, when the command was deferred
 * privately first (commands that write acknowledge before they touch the database), an edit of that
 * deferred reply, which Discord keeps private.
 */
import { MessageFlags } from 'discord.js';
import type { MessageMentionOptions, RepliableInteraction } from 'discord.js';

export async function answerPrivately(i: RepliableInteraction, answer: { content: string; allowedMentions?: MessageMentionOptions }): Promise<void> {
  if (i.deferred || i.replied) await i.editReply(answer);
  else await i.reply({ ...answer, flags: MessageFlags.Ephemeral });
}
