/**
 * Finding the input image: Slack commands carry no file and never run in threads, so `/asyrp` uses the
 * person's most recent image in the channel within a window; reactions and shortcuts name a message,
 * which is read back from Slack (a payload's copy is not trusted after a round trip through the UI).
 */
import type { SlackBotContext } from './slack-context.js';
import type { SlackFile, SlackMessage } from './slack-files.js';
import { imageFileIn } from './slack-files.js';

export interface FoundImage {
  readonly message: SlackMessage & { ts: string };
  readonly file: SlackFile;
  /** The thread the result belongs in: the message's own thread, or the message itself. */
  readonly threadTs: string;
}

export const NO_IMAGE_HINT =
  'I need an image: post one in this channel and run `/asyrp` again, or use the *Edit with Asyrp* message shortcut (⋮ on a message with an image), or mention me in the image\'s thread.';

function found(message: SlackMessage): FoundImage | undefined {
  const file = imageFileIn(message);
  if (!file || !message.ts) return undefined;
  return { message: message as SlackMessage & { ts: string }, file, threadTs: message.thread_ts ?? message.ts };
}

/** The person's newest top-level message with an image in the channel, no older than the window. */
export async function recentImageOf(ctx: SlackBotContext, channel: string, userId: string): Promise<FoundImage | undefined> {
  const oldest = ((Date.now() - ctx.recentImageWindowMs) / 1000).toFixed(6);
  const res = await ctx.client.conversations.history({ channel, oldest, limit: 50 });
  const messages = (res.messages ?? []) as SlackMessage[];
  const sorted = [...messages].sort((a, b) => Number(b.ts) - Number(a.ts));
  for (const m of sorted) {
    if (m.user !== userId) continue;
    const hit = found(m);
    if (hit) return hit;
  }
  return undefined;
}

/** One message by channel and ts (top level or a thread reply); threadTs helps find replies. */
export async function messageAt(ctx: SlackBotContext, channel: string, ts: string, threadTs?: string): Promise<SlackMessage | undefined> {
  const res = await ctx.client.conversations.replies({ channel, ts: threadTs ?? ts, limit: 200 });
  return ((res.messages ?? []) as SlackMessage[]).find((m) => m.ts === ts);
}

export async function imageAt(ctx: SlackBotContext, channel: string, ts: string, threadTs?: string): Promise<FoundImage | undefined> {
  const m = await messageAt(ctx, channel, ts, threadTs);
  return m ? found(m) : undefined;
}

/** The newest image in a thread (the parent included), for a mention inside it. */
export async function latestImageInThread(ctx: SlackBotContext, channel: string, threadTs: string): Promise<FoundImage | undefined> {
  const res = await ctx.client.conversations.replies({ channel, ts: threadTs, limit: 200 });
  const messages = ((res.messages ?? []) as SlackMessage[]).filter((m) => !m.bot_id);
  for (const m of [...messages].sort((a, b) => Number(b.ts) - Number(a.ts))) {
    const hit = found(m);
    if (hit) return { ...hit, threadTs };
  }
  return undefined;
}

export function foundIn(message: SlackMessage): FoundImage | undefined {
  return found(message);
}
