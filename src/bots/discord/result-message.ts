/**
 * Posting a result: in a thread on the source image's message (created if needed; a message can have
 * one thread, whose id is the message's id), with the edited image, the before/after and the buttons.
 * Where threads are impossible (DMs, missing permission) the channel itself is used.
 */
import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, DiscordAPIError, Routes } from 'discord.js';
import type { Client, Message, SendableChannels } from 'discord.js';
import type { ResultAction } from './custom-ids.js';
import { resultButtonId } from './custom-ids.js';
import { enlargedNote, pngSize } from '../core/display-note.js';

export function resultButtons(editId: number): ActionRowBuilder<ButtonBuilder>[] {
  const b = (action: ResultAction, label: string, emoji: string, style = ButtonStyle.Secondary) =>
    new ButtonBuilder().setCustomId(resultButtonId(action, editId)).setLabel(label).setEmoji(emoji).setStyle(style);
  return [
    new ActionRowBuilder<ButtonBuilder>().addComponents(b('weaker', 'Weaker', '➖'), b('stronger', 'Stronger', '➕'), b('sweep', 'Sweep', '🎚️'), b('undo', 'Undo', '↩️')),
    new ActionRowBuilder<ButtonBuilder>().addComponents(b('save', 'Save as preset', '💾', ButtonStyle.Primary), b('delete', 'Delete', '🗑️', ButtonStyle.Danger)),
  ];
}

/** The channel results go to: the source message's thread (created once), the thread itself, or the channel. */
export async function resultChannel(client: Client, where: { channelId: string; messageId: string | null; threadName: string }): Promise<SendableChannels> {
  return (await openResultChannel(client, where)).channel;
}

/** The same, saying whether this call created the thread (a refused edit deletes a thread it created, empty). */
export async function openResultChannel(
  client: Client,
  where: { channelId: string; messageId: string | null; threadName: string },
): Promise<{ channel: SendableChannels; createdThread: boolean }> {
  const channel = await client.channels.fetch(where.channelId);
  if (!channel || !channel.isSendable()) throw new Error('result channel is not sendable');
  if (channel.isThread() || channel.isDMBased() || !where.messageId) return { channel, createdThread: false };
  let created = true;
  try {
    await client.rest.post(Routes.threads(where.channelId, where.messageId), { body: { name: where.threadName.slice(0, 100), auto_archive_duration: 1440 } });
  } catch (e) {
    // 160004: the message already has a thread (an earlier edit of the same image). 50013/50001: no
    // permission to create threads here; post in the channel instead.
    const code = e instanceof DiscordAPIError ? e.code : undefined;
    if (code === 50013 || code === 50001) return { channel, createdThread: false };
    if (code !== 160004) throw e;
    created = false;
  }
  const thread = await client.channels.fetch(where.messageId);
  return thread && thread.isSendable() ? { channel: thread, createdThread: created } : { channel, createdThread: false };
}

export interface ResultPost {
  readonly editId: number;
  readonly caption: string;
  readonly after: Uint8Array;
  readonly compare: Uint8Array | null;
  /** The model-resolution result when `after` is enlarged for display: attached beside it. */
  readonly original?: Uint8Array | null;
  /** The input is clearly outside the model's domain: one line under the caption. */
  readonly note?: string | null;
  readonly sweep?: boolean;
}

export function resultPayload(p: ResultPost) {
  const files = [new AttachmentBuilder(Buffer.from(p.after), { name: p.sweep ? 'asyrp-sweep.png' : 'asyrp-edit.png', description: p.caption.slice(0, 1000) })];
  if (p.compare) files.push(new AttachmentBuilder(Buffer.from(p.compare), { name: 'before-after.png', description: 'Before and after' }));
  const size = p.original ? pngSize(p.original) : null;
  if (p.original) {
    const name = `${p.sweep ? 'asyrp-sweep' : 'asyrp-edit'}-original${size ? `-${size.width}x${size.height}` : ''}.png`;
    files.push(new AttachmentBuilder(Buffer.from(p.original), { name, description: "The model's own pixels, not enlarged" }));
  }
  const lines = [p.caption, ...(p.note ? [`⚠️ ${p.note}`] : []), ...(p.original ? [`-# ${enlargedNote(size)}`] : [])];
  const content = lines.join('\n');
  return { content: content.slice(0, 2000), files, components: resultButtons(p.editId) };
}

export function postResult(channel: SendableChannels, p: ResultPost): Promise<Message> {
  return channel.send(resultPayload(p));
}
