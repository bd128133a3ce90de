/**
 * Runs a callback right after an interaction's first response (reply, deferReply, update, deferUpdate
 * or showModal) has been accepted by Discord. The router uses it to write the interaction's dedupe key
 * only once the ack is out, whichever handler acks and however it does it (buttons, selects, modals and
 * the context menu included), instead of every handler remembering to.
 */
import type { Interaction } from 'discord.js';

const ACK_METHODS = ['reply', 'deferReply', 'update', 'deferUpdate', 'showModal'] as const;

export function onAck(i: Interaction, then: () => void): void {
  let done = false;
  const target = i as unknown as Record<string, unknown>;
  for (const name of ACK_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    // An own property on this one interaction object shadows the prototype's method.
    target[name] = async (...args: unknown[]) => {
      const result: unknown = await (original as (...a: unknown[]) => Promise<unknown>).apply(i, args);
      if (!done) {
        done = true;
        then();
      }
      return result;
    };
  }
}
