/**
 * Downloads a person's image, safely: only from the platform's CDN hosts (an allow-list from config),
 * only within the byte limit (checked against the declared size before the request, the
 * Content-Length header, and the bytes actually read), and only if the bytes start like an image the
 * engine decodes. Pixel counts are checked from the platform's metadata before downloading.
 */
import { UserFacingError } from './user-facing-error.js';
import type { CoreLimits } from './types.js';

export interface AttachmentMeta {
  readonly url: string;
  readonly size?: number | null;
  readonly width?: number | null;
  readonly height?: number | null;
  readonly contentType?: string | null;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** What can be known before a byte is fetched: declared size, pixels, type, host. */
export function checkAttachment(meta: AttachmentMeta, limits: CoreLimits, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(meta.url);
  } catch {
    throw new UserFacingError('input', 'That image link is not valid.');
  }
  const hostOk = allowedHosts.includes(url.hostname) || allowedHosts.includes(url.host);
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!hostOk || !schemeOk) throw new UserFacingError('input', 'I only download images that were uploaded to this chat.');
  if (meta.contentType && !meta.contentType.startsWith('image/')) throw new UserFacingError('input', 'That attachment is not an image.');
  if (meta.contentType === 'image/svg+xml') throw new UserFacingError('input', 'I can only edit PNG, JPEG, WebP or GIF images.');
  if (meta.size === 0) throw empty();
  if (meta.size != null && meta.size > limits.maxInputBytes) throw tooBig(limits);
  if (meta.width != null && meta.height != null && meta.width * meta.height > limits.maxInputPixels) {
    throw new UserFacingError('input', `That image is ${meta.width}×${meta.height}; I edit images up to ${Math.floor(limits.maxInputPixels / 1e6)} megapixels.`);
  }
  return url;
}

const tooBig = (limits: CoreLimits) => new UserFacingError('input', `That image is larger than ${Math.floor(limits.maxInputBytes / 1e6)} MB. Try a smaller one.`);

/** A 0-byte upload is not "the wrong format": it has no format; say what is wrong with it. */
export const empty = () => new UserFacingError('input', 'That file is empty (0 bytes). Try uploading the image again.');

/** PNG, JPEG, GIF, WebP by their first bytes; the engine checks the rest when it decodes. */
export function looksLikeImage(b: Uint8Array): boolean {
  const at = (i: number, ...xs: number[]) => xs.every((x, k) => b[i + k] === x);
  return at(0, 0x89, 0x50, 0x4e, 0x47) || at(0, 0xff, 0xd8, 0xff) || at(0, 0x47, 0x49, 0x46, 0x38) || (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50));
}

export async function fetchImage(meta: AttachmentMeta, options: { limits: CoreLimits; allowedHosts: readonly string[]; timeoutMs?: number }): Promise<Uint8Array> {
  const url = checkAttachment(meta, options.limits, options.allowedHosts);
  let res: Response;
  try {
    // redirect 'error': a redirect could lead off the allow-listed hosts.
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 20_000) });
  } catch {
    throw new UserFacingError('input', 'I could not download that image. Try uploading it again.');
  }
  if (!res.ok || !res.body) throw new UserFacingError('input', 'I could not download that image (the link may have expired). Try uploading it again.');
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > options.limits.maxInputBytes) {
    await res.body.cancel();
    throw tooBig(options.limits);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > options.limits.maxInputBytes) throw tooBig(options.limits);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) throw empty();
  if (!looksLikeImage(bytes)) throw new UserFacingError('input', 'I can only edit PNG, JPEG, WebP or GIF images.');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
