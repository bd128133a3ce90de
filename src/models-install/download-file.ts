/**
 * Downloads one file from a list of mirrors into `<dest>.part`, resuming with an HTTP Range request where
 * an earlier try stopped (a cut connection, or an earlier run), and renames it to `dest` only when it is
 * whole and checked: an HTML page (a login or error page served with status 200) and a file whose size is
 * outside the expected range are refused before they are kept, and the sha256 is compared where one is
 * known (and returned either way, to be recorded).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { InstallError } from './install-error.js';

export interface DownloadProgress {
  readonly url: string;
  readonly received: number;
  /** Whole size when the server said it. */
  readonly total: number | null;
  /** Over this run's transfer (a resumed part does not count). */
  readonly bytesPerSecond: number;
  readonly etaSeconds: number | null;
}

export interface DownloadExpectation {
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly sha256?: string | null;
  /** 'torch': the file must start like a PyTorch checkpoint (a zip, or a pickle). */
  readonly kind?: 'torch' | 'any';
}

export interface DownloadOptions {
  readonly urls: readonly string[];
  readonly dest: string;
  readonly expect: DownloadExpectation;
  /** What the file is, for messages ("celeba_hq.ckpt"). */
  readonly label: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Resumes after a cut connection, per source (default 5). */
  readonly resumes?: number;
  readonly signal?: AbortSignal;
}

export interface DownloadResult {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly url: string;
  /** Whether some of the file came from an earlier, interrupted try. */
  readonly resumed: boolean;
  /** Every source that failed before this one, with why. */
  readonly failures: readonly string[];
}

/** A source's failure, and whether it was the file's fault (corrupt) rather than the source's (down). */
class SourceFailure extends Error {
  constructor(
    message: string,
    readonly corrupt: boolean,
  ) {
    super(message);
  }
}

const MB = 1e6;
export const formatBytes = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= MB ? `${(n / MB).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`);

function sniff(head: Buffer, kind: DownloadExpectation['kind']): string | null {
  const text = head.subarray(0, 256).toString('latin1').trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html') || text.startsWith('<?xml') || text.startsWith('<head')) {
    return 'an HTML page, not the file (a login, quota or error page)';
  }
  // torch.save writes a zip (PK\x03\x04) since torch 1.6, a bare pickle (protocol 2: \x80\x02) before.
  if (kind === 'torch' && !(head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) && head[0] !== 0x80) {
    return `not a PyTorch checkpoint (it starts with ${JSON.stringify(head.subarray(0, 8).toString('latin1'))})`;
  }
  return null;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const range = (e: DownloadExpectation) => (e.minBytes === e.maxBytes ? formatBytes(e.minBytes) : `${formatBytes(e.minBytes)} to ${formatBytes(e.maxBytes)}`);

/** One source, with resumes; resolves when `part` holds the whole file as the server sent it. */
async function fetchInto(url: string, part: string, opts: DownloadOptions): Promise<{ resumed: boolean }> {
  const e = opts.expect;
  const maxResumes = opts.resumes ?? 5;
  let resumed = false;
  let cuts = 0;
  for (;;) {
    const have = await sizeOf(part);
    let res: Response;
    try {
      res = await fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new SourceFailure(`connection failed: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, false);
    }
    if (res.status === 416 && have > 0) {
      // The part already holds everything the server has.
      await res.body?.cancel();
      return { resumed: true };
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new SourceFailure(`HTTP ${res.status}`, false);
    }
    if ((res.headers.get('content-type') ?? '').toLowerCase().includes('text/html')) {
      await res.body?.cancel();
      throw new SourceFailure('an HTML page, not the file (a login, quota or error page)', true);
    }
    const appending = res.status === 206 && have > 0;
    if (appending) resumed = true;
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? (appending ? have : 0) + length : null;
    if (total !== null && (total < e.minBytes || total > e.maxBytes)) {
      await res.body?.cancel();
      throw new SourceFailure(`the server offers ${formatBytes(total)} (${total} bytes); ${opts.label} is ${range(e)}`, true);
    }
    const file = await open(part, appending ? 'a' : 'w');
    const start = performance.now();
    const base = appending ? have : 0;
    let received = base;
    let head: Buffer | null = appending ? null : Buffer.alloc(0);
    try {
      if (!res.body) throw new SourceFailure('an empty response', false);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (head) {
          head = Buffer.concat([head, chunk]);
          if (head.length >= 64) {
            const bad = sniff(head, e.kind);
            if (bad) throw new SourceFailure(bad, true);
            head = null;
          }
        }
        await file.write(chunk);
        received += chunk.length;
        if (received > e.maxBytes) throw new SourceFailure(`more than ${formatBytes(e.maxBytes)} arrived; ${opts.label} is ${range(e)}`, true);
        const secs = (performance.now() - start) / 1000;
        const rate = secs > 0 ? (received - base) / secs : 0;
        opts.onProgress?.({ url, received, total, bytesPerSecond: rate, etaSeconds: total !== null && rate > 0 ? (total - received) / rate : null });
      }
      if (head) {
        const bad = sniff(head, e.kind);
        if (bad) throw new SourceFailure(bad, true);
      }
    } catch (err) {
      await file.close();
      if (err instanceof SourceFailure) {
        if (err.corrupt) await rm(part, { force: true });
        throw err;
      }
      if (opts.signal?.aborted) throw err;
      // A cut connection: keep the part and resume from where it stopped.
      if (++cuts > maxResumes) throw new SourceFailure(`the connection was cut ${cuts} times (last at ${formatBytes(received)})`, false);
      continue;
    }
    await file.close();
    if (total !== null && received < total) {
      if (++cuts > maxResumes) throw new SourceFailure(`the connection was cut ${cuts} times (last at ${formatBytes(received)})`, false);
      continue;
    }
    return { resumed };
  }
}

export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const e = opts.expect;
  const part = `${opts.dest}.part`;
  const failures: string[] = [];
  let corrupt = 0;
  if (!opts.urls.length) throw new InstallError('NO_SOURCE', `no download source is known for ${opts.label}`);
  for (const url of opts.urls) {
    try {
      const { resumed } = await fetchInto(url, part, opts);
      const bytes = await sizeOf(part);
      if (bytes < e.minBytes || bytes > e.maxBytes) {
        await rm(part, { force: true });
        throw new SourceFailure(`the file is ${formatBytes(bytes)} (${bytes} bytes); ${opts.label} is ${range(e)}`, true);
      }
      const sha256 = await sha256File(part);
      if (e.sha256 && sha256 !== e.sha256) {
        await rm(part, { force: true });
        throw new SourceFailure(`sha256 ${sha256}, expected ${e.sha256}`, true);
      }
      await rename(part, opts.dest);
      return { path: opts.dest, bytes, sha256, url, resumed, failures };
    } catch (err) {
      if (!(err instanceof SourceFailure)) throw err;
      failures.push(`${url} (${err.message})`);
      if (err.corrupt) corrupt++;
    }
  }
  const all = corrupt === failures.length;
  throw new InstallError(
    all ? 'CORRUPT_DOWNLOAD' : 'SOURCE_UNAVAILABLE',
    `${opts.label} could not be downloaded; tried ${failures.join('; ')}. Download it yourself and pass it with --from <file>.`,
    { failures },
  );
}
