/**
 * Downloading a person's image: only from allow-listed hosts, within the size limit (declared, header,
 * and actually read), never following redirects, and only bytes that start like an image. A local
 * HTTP server on 127.0.0.1 plays the CDN.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAttachment, fetchImage, looksLikeImage } from '../../src/bots/core/image-fetch.js';
import { samplePng } from './support/discord-harness.js';

const png = samplePng();
const limits = { maxInputBytes: png.length + 100, maxInputPixels: 1_000_000 };
let base = '';
const server = createServer((req, res) => {
  if (req.url === '/ok.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  if (req.url === '/big-header') return void res.writeHead(200, { 'content-length': String(limits.maxInputBytes + 1) }).end(Buffer.alloc(limits.maxInputBytes + 1));
  if (req.url === '/big-chunked') {
    res.writeHead(200, { 'transfer-encoding': 'chunked' });
    res.write(png);
    return void res.end(Buffer.alloc(200));
  }
  if (req.url === '/html') return void res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>');
  if (req.url === '/empty') return void res.writeHead(200, { 'content-type': 'image/png' }).end();
  if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://example.com/x.png' }).end();
  res.writeHead(404).end();
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const hosts = ['127.0.0.1'];

describe('checkAttachment (before any byte is fetched)', () => {
  it('refuses hosts off the allow-list, plain http off loopback, and non-images', () => {
    expect(() => checkAttachment({ url: 'https://evil.example/x.png' }, limits, hosts)).toThrow(/uploaded to this chat/);
    expect(() => checkAttachment({ url: 'http://cdn.discordapp.com/x.png' }, limits, ['cdn.discordapp.com'])).toThrow(/uploaded to this chat/);
    expect(checkAttachment({ url: 'https://cdn.discordapp.com/x.png' }, limits, ['cdn.discordapp.com']).hostname).toBe('cdn.discordapp.com');
    expect(() => checkAttachment({ url: `${base}/x.svg`, contentType: 'image/svg+xml' }, limits, hosts)).toThrow(/PNG, JPEG/);
    expect(() => checkAttachment({ url: `${base}/x.txt`, contentType: 'text/plain' }, limits, hosts)).toThrow(/not an image/);
  });

  it('refuses declared sizes and pixel counts over the limits', () => {
    expect(() => checkAttachment({ url: `${base}/ok.png`, size: limits.maxInputBytes + 1 }, limits, hosts)).toThrow(/larger than/);
    expect(() => checkAttachment({ url: `${base}/ok.png`, width: 2000, height: 2000 }, limits, hosts)).toThrow(/2000×2000/);
  });

  it('calls a declared 0-byte file empty', () => {
    expect(() => checkAttachment({ url: `${base}/ok.png`, size: 0 }, limits, hosts)).toThrow(/That file is empty/);
  });
});

describe('fetchImage', () => {
  it('downloads an image from an allowed host', async () => {
    const bytes = await fetchImage({ url: `${base}/ok.png` }, { limits, allowedHosts: hosts });
    expect(Buffer.from(bytes).equals(Buffer.from(png))).toBe(true);
  });

  it('calls 0 bytes read empty, not the wrong format', async () => {
    await expect(fetchImage({ url: `${base}/empty` }, { limits, allowedHosts: hosts })).rejects.toThrow(/That file is empty/);
  });

  it('stops at the Content-Length or at the bytes read, whichever shows the excess first', async () => {
    await expect(fetchImage({ url: `${base}/big-header` }, { limits, allowedHosts: hosts })).rejects.toThrow(/larger than/);
    await expect(fetchImage({ url: `${base}/big-chunked` }, { limits, allowedHosts: hosts })).rejects.toThrow(/larger than/);
  });

  it('rejects bytes that are not an image, and never follows a redirect', async () => {
    await expect(fetchImage({ url: `${base}/html` }, { limits, allowedHosts: hosts })).rejects.toThrow(/PNG, JPEG/);
    await expect(fetchImage({ url: `${base}/redirect` }, { limits, allowedHosts: hosts })).rejects.toThrow(/could not download/);
    await expect(fetchImage({ url: `${base}/missing.png` }, { limits, allowedHosts: hosts })).rejects.toThrow(/expired/);
  });

  it('recognises PNG, JPEG, GIF and WebP by their first bytes', () => {
    expect(looksLikeImage(png)).toBe(true);
    expect(looksLikeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe(true);
    expect(looksLikeImage(Buffer.from('GIF89a'))).toBe(true);
    expect(looksLikeImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe(true);
    expect(looksLikeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe(false);
  });
});
