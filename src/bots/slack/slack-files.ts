/**
 * Images in Slack messages, and downloading them safely. Slack file links (url_private) need the bot
 * token, so the token is attached only after the host passed the allow-list (files.slack.com; tests
 * configure a loopback host), and a redirect is an error rather than a hop: Slack answers an
 * unauthenticated or expired request with a redirect to an HTML login page, which must never be
 * followed (and the token never sent) to another host. Size and pixels are checked from the file's
 * metadata before the download and again on the bytes; the bytes must start like an image.
 */
import { checkAttachment, empty, looksLikeImage } from '../core/image-fetch.js';
import type { AttachmentMeta } from '../core/image-fetch.js';
import type { CoreLimits } from '../core/types.js';
import { UserFacingError } from '../core/user-facing-error.js';

/** The parts of a Slack file object the bot reads. */
export interface SlackFile {
  readonly id?: string;
  readonly name?: string;
  readonly mimetype?: string;
  readonly size?: number;
  readonly original_w?: number;
  readonly original_h?: number;
  readonly url_private?: string;
  readonly url_private_download?: string;
}

export interface SlackMessage {
  readonly ts?: string;
  readonly thread_ts?: string;
  readonly user?: string;
  readonly bot_id?: string;
  readonly text?: string;
  readonly files?: readonly SlackFile[];
}

const IMAGE_TYPES = /^image\/(png|jpeg|jpg|webp|gif)$/i;

export function imageFileIn(message: SlackMessage | undefined): SlackFile | undefined {
  return message?.files?.find((f) => IMAGE_TYPES.test(f.mimetype ?? '') && Boolean(f.url_private_download ?? f.url_private));
}

export function metaOfFile(f: SlackFile): AttachmentMeta {
  return { url: f.url_private_download ?? f.url_private ?? '', size: f.size ?? null, width: f.original_w ?? null, height: f.original_h ?? null, contentType: f.mimetype ?? null };
}

export interface DownloadOptions {
  readonly botToken: string;
  readonly fileHosts: readonly string[];
  readonly limits: CoreLimits;
  readonly timeoutMs?: number;
}

export async function downloadSlackFile(f: SlackFile, o: DownloadOptions): Promise<Uint8Array> {
  const url = checkAttachment(metaOfFile(f), o.limits, o.fileHosts);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${o.botToken}` },
      redirect: 'error',
      signal: AbortSignal.timeout(o.timeoutMs ?? 20_000),
    });
  } catch {
    // The app's set-up, not the person's file: said in the channel, where an admin can see it.
    throw new UserFacingError('internal', 'I could not download that image from Slack. Is the app allowed to read files (files:read)?');
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !res.body || /text\/html/i.test(type)) {
    await res.body?.cancel().catch(() => undefined);
    throw new UserFacingError('internal', 'Slack did not give me that image (I got a login page instead). Ask an admin to check the app\'s files:read scope.');
  }
  const tooBig = () => new UserFacingError('input', `That image is larger than ${Math.floor(o.limits.maxInputBytes / 1e6)} MB. Try a smaller one.`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.limits.maxInputBytes) {
    await res.body.cancel().catch(() => undefined);
    throw tooBig();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > o.limits.maxInputBytes) throw tooBig();
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) throw empty();
  if (!looksLikeImage(bytes)) throw new UserFacingError('input', 'I can only edit PNG, JPEG, WebP or GIF images.');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
