/** downloadFile against a loopback server: mirrors, resume after a cut, and every refusal before a file is kept. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFile, type DownloadProgress } from '../../src/models-install/download-file.js';
import { InstallError } from '../../src/models-install/install-error.js';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { tempDir } from '../helpers/paths.js';

// A stand-in checkpoint: starts like torch.save's zip, random bytes after.
const body = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251))]);
const sha = createHash('sha256').update(body).digest('hex');
const expectation = { minBytes: body.length, maxBytes: body.length, kind: 'torch' as const };
const html = Buffer.from('<!DOCTYPE html><html><head><title>Sign in</title></head><body>' + 'x'.repeat(300_000) + '</body></html>');

let server: FileServer;
let dir: string;

beforeAll(async () => {
  server = await startFileServer({
    '/ok.ckpt': { body },
    '/cut.ckpt': { body, cutAfter: 100_000, cuts: 2 },
    '/html.ckpt': { body: html, contentType: 'text/html; charset=utf-8' },
    '/html-as-binary.ckpt': { body: html },
    '/short.ckpt': { body: body.subarray(0, 200_000) },
    '/forbidden.ckpt': { status: 403 },
    '/no-range.ckpt': { body, noRange: true },
  });
  dir = tempDir('asyrp-download-');
});
afterAll(async () => server?.close());

async function installError(p: Promise<unknown>): Promise<InstallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InstallError) return e;
    throw e;
  }
  throw new Error('expected an InstallError');
}

describe('downloadFile', () => {
  it('downloads, reports size, rate and ETA, and returns the sha256', async () => {
    const seen: DownloadProgress[] = [];
    const dest = join(dir, 'a.ckpt');
    const r = await downloadFile({ urls: [`${server.url}/ok.ckpt`], dest, expect: { ...expectation, sha256: sha }, label: 'a.ckpt', onProgress: (p) => seen.push(p) });
    expect(r).toMatchObject({ bytes: body.length, sha256: sha, resumed: false, failures: [] });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    const last = seen.at(-1)!;
    expect(last.received).toBe(body.length);
    expect(last.total).toBe(body.length);
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    expect(last.etaSeconds).toBe(0);
  });

  it('resumes with a Range request after the connection is cut mid-file', async () => {
    const dest = join(dir, 'cut.ckpt');
    const before = server.log.length;
    const r = await downloadFile({ urls: [`${server.url}/cut.ckpt`], dest, expect: { ...expectation, sha256: sha }, label: 'cut.ckpt' });
    expect(r.resumed).toBe(true);
    expect(readFileSync(dest).equals(body)).toBe(true);
    // each retry resumes where the part stopped: at most where the server cut, never from the start
    const ranges = server.log.slice(before).map((l) => l.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    const at = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(at[0]).toBeGreaterThan(0);
    expect(at[0]).toBeLessThanOrEqual(100_000);
    expect(at[1]).toBeGreaterThan(at[0]!);
    expect(at[1]).toBeLessThanOrEqual(at[0]! + 100_000);
  });

  it('resumes a part left by an earlier run', async () => {
    const dest = join(dir, 'earlier.ckpt');
    writeFileSync(`${dest}.part`, body.subarray(0, 123_456));
    const before = server.log.length;
    const r = await downloadFile({ urls: [`${server.url}/ok.ckpt`], dest, expect: expectation, label: 'earlier.ckpt' });
    expect(r.resumed).toBe(true);
    expect(server.log.slice(before).map((l) => l.range)).toEqual(['bytes=123456-']);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('starts over when the server ignores the Range header', async () => {
    const dest = join(dir, 'norange.ckpt');
    writeFileSync(`${dest}.part`, Buffer.from('stale bytes that must not stay in front'));
    const r = await downloadFile({ urls: [`${server.url}/no-range.ckpt`], dest, expect: { ...expectation, sha256: sha }, label: 'norange.ckpt' });
    expect(r.resumed).toBe(false);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('skips a 403, an HTML page and an HTML page sent as binary, naming each, and takes the next mirror', async () => {
    const dest = join(dir, 'mirrors.ckpt');
    const urls = ['/forbidden.ckpt', '/html.ckpt', '/html-as-binary.ckpt', '/missing.ckpt', '/ok.ckpt'].map((p) => server.url + p);
    const r = await downloadFile({ urls, dest, expect: expectation, label: 'mirrors.ckpt' });
    expect(r.url).toBe(urls[4]);
    expect(r.failures).toEqual([
      `${urls[0]} (HTTP 403)`,
      `${urls[1]} (an HTML page, not the file (a login, quota or error page))`,
      `${urls[2]} (the server offers 300 kB (${html.length} bytes); mirrors.ckpt is 300 kB)`,
      `${urls[3]} (HTTP 404)`,
    ]);
  });

  it('refuses an HTML page sniffed from its first bytes when the size would pass', async () => {
    const dest = join(dir, 'sniff.ckpt');
    const e = await installError(downloadFile({ urls: [`${server.url}/html-as-binary.ckpt`], dest, expect: { minBytes: 1, maxBytes: 10_000_000, kind: 'torch' }, label: 'sniff.ckpt' }));
    expect(e.code).toBe('CORRUPT_DOWNLOAD');
    expect(e.message).toContain('an HTML page, not the file');
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it('a wrong size or a wrong hash is a corrupt download with what was found and what was expected; nothing is kept', async () => {
    const dest = join(dir, 'bad.ckpt');
    const size = await installError(downloadFile({ urls: [`${server.url}/short.ckpt`], dest, expect: expectation, label: 'bad.ckpt' }));
    expect(size.code).toBe('CORRUPT_DOWNLOAD');
    expect(size.message).toMatch(/offers 200 kB \(200000 bytes\); bad\.ckpt is 300 kB/);
    const wrong = 'f'.repeat(64);
    const hash = await installError(downloadFile({ urls: [`${server.url}/ok.ckpt`], dest, expect: { ...expectation, sha256: wrong }, label: 'bad.ckpt' }));
    expect(hash.code).toBe('CORRUPT_DOWNLOAD');
    expect(hash.message).toContain(`sha256 ${sha}, expected ${wrong}`);
    expect(existsSync(dest) || existsSync(`${dest}.part`)).toBe(false);
  });

  it('every source down: one sentence listing what was tried and what to do', async () => {
    const urls = [`${server.url}/forbidden.ckpt`, 'http://127.0.0.1:1/x.ckpt'];
    const e = await installError(downloadFile({ urls, dest: join(dir, 'down.ckpt'), expect: expectation, label: 'down.ckpt' }));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(e.message).toMatch(/^down\.ckpt could not be downloaded; tried .*forbidden\.ckpt \(HTTP 403\); http:\/\/127\.0\.0\.1:1\/x\.ckpt \(connection failed: .*\)\. Download it yourself and pass it with --from <file>\.$/);
    expect(e.message).not.toContain('\n');
  });
});
