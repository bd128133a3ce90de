/**
 * Choosing the input: the command's `image` attachment, else the newest image in the channel or thread
 * (readable only with the MESSAGE_CONTENT intent for other people's messages), else nothing and the
 * caller shows a hint.
 */
import type { Attachment, Collection, Message, Snowflake, TextBasedChannel } from 'discord.js';
import type { AttachmentMeta } from '../core/image-fetch.js';

const IMAGE_EXT = /\.(png|jpe?g|webp|gif)$/i;

export const NO_IMAGE_HINT =
  'I need an image: add one with the `image` option, or right-click an image → **Apps → Edit with Asyrp**, or react to it with an emoji.';

export function isImage(a: Pick<Attachment, 'contentType' | 'name'>): boolean {
  return a.contentType ? a.contentType.startsWith('image/') && a.contentType !== 'image/svg+xml' : IMAGE_EXT.test(a.name);
}

export function metaOf(a: Attachment): AttachmentMeta {
  return { url: a.url, size: a.size, width: a.width, height: a.height, contentType: a.contentType };
}

export function imageIn(attachments: Collection<Snowflake, Attachment>): Attachment | undefined {
  return attachments.find((a) => isImage(a));
}

export async function latestImage(channel: TextBasedChannel | null, limit = 20): Promise<{ message: Message; attachment: Attachment } | undefined> {
  if (!channel) return undefined;
  let recent: Collection<Snowflake, Message>;
  try {
    recent = await channel.messages.fetch({ limit });
  } catch {
    return undefined; // no Read Message History here
  }
  for (const message of recent.sort((a, b) => b.createdTimestamp - a.createdTimestamp).values()) {
    const attachment = imageIn(message.attachments);
    if (attachment) return { message, attachment };
  }
  return undefined;
}
