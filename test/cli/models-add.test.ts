/**
 * `asyrp models add` end to end against a loopback server: a reduced-size random-weight checkpoint in the
 * official DDPM format (tools/make_random_checkpoint.py) is offered behind an HTML page, a 404 and a
 * connection cut mid-file; the command skips the first two, resumes the third, converts with the real
 * Python converter, runs the smoke edit in the real engine and installs; `asyrp models` lists it and
 * `asyrp models remove` removes it. A wrong hash and a missing Python leave nothing in models/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileServer } from '../helpers/file-server.js';
import { tinyCheckpoint, type TinyCheckpoint } from '../helpers/tiny-checkpoint.js';
import { readJson } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

let server: FileServer;
let dir: string;
let ckpt: Buffer;
let sha: string;
let sources: TinyCheckpoint['sources'];
let overrides: TinyCheckpoint['overrides'];

beforeAll(async () => {
  ({ dir, ckpt, sha, server, sources, overrides } = await tinyCheckpoint((ckpt) => ({
    '/login/celeba_hq.ckpt': { body: Buffer.from('<!DOCTYPE html><html><body>Sign in to download</body></html>'), contentType: 'text/html' },
    '/cut/celeba_hq.ckpt': { body: ckpt, cutAfter: Math.floor(ckpt.length / 3) },
  })));
}, 30_000);
afterAll(async () => server?.close());

const hidden = () => readdirSync(join(dir, 'models')).filter((n) => n.startsWith('.') && !n.endsWith('.lock'));

describe('asyrp models add', () => {
  it('skips an HTML page and a 404, resumes a cut download, converts, smoke-edits, installs, lists and removes', async () => {
    const src = sources({ sources: [`${server.url}/login/celeba_hq.ckpt`, `${server.url}/gone/celeba_hq.ckpt`, `${server.url}/cut/celeba_hq.ckpt`] });
    const r = await runCli(['models', 'add', 'celeba-hq', '--directions', 'none'], { cwd: dir, overrides: overrides(src) });
    expect(r.err + r.out).not.toContain('Traceback');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`source skipped: ${server.url}/login/celeba_hq.ckpt (an HTML page, not the file (a login, quota or error page))`);
    expect(r.err).toContain(`source skipped: ${server.url}/gone/celeba_hq.ckpt (HTTP 404)`);
    // the second request resumes where the cut left the part (what reached the client before the reset)
    const ranges = server.log.filter((l) => l.path === '/cut/celeba_hq.ckpt').map((l) => l.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(Math.floor(ckpt.length / 3));
    expect(r.out).toMatch(/^installed celeba-hq in .*models\/celeba-hq$/m);
    expect(r.out).toMatch(/parity +largest ONNX-vs-PyTorch difference \d\.\d\de-\d+/);
    expect(r.out).toContain(`sha256        ${sha} (none published; recorded in model.json)`);
    expect(r.out).toMatch(/smoke edit +reconstruction, 4 steps on cpu/);
    expect(r.out).toContain('(resumed)');
    expect(r.out).toContain('try it: asyrp edit <image> --model celeba-hq --compare before-after.png');

    const manifest = readJson<{ id: string; official: { checkpointSha256: string; parity: Record<string, number> }; install: { sha256: string; source: string } }>(join(dir, 'models', 'celeba-hq', 'model.json'));
    expect(manifest.id).toBe('celeba-hq');
    expect(manifest.install.sha256).toBe(sha);
    expect(manifest.official.checkpointSha256).toBe(sha);
    expect(manifest.install.source).toBe(`${server.url}/cut/celeba_hq.ckpt`);
    expect(Math.max(...Object.values(manifest.official.parity))).toBeLessThan(1e-3);
    expect(hidden()).toEqual([]);
    // the download is removed once installed
    expect(readdirSync(join(dir, 'data', 'downloads'))).toEqual([]);

    const list = await runCli(['models', '--json'], { cwd: dir, overrides: overrides(src) });
    expect(JSON.parse(list.out).models.map((m: { id: string }) => m.id)).toEqual(['celeba-hq']);
    const again = await runCli(['models', 'add', 'celeba-hq', '--directions', 'none'], { cwd: dir, overrides: overrides(src) });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/celeba-hq is already installed .*--force/);

    const rm = await runCli(['models', 'remove', 'celeba-hq'], { cwd: dir, overrides: overrides(src) });
    expect(rm.code).toBe(0);
    expect(existsSync(join(dir, 'models', 'celeba-hq'))).toBe(false);
    const listed = await runCli(['models'], { cwd: dir, overrides: overrides(src) });
    expect(listed.out).toMatch(/can be added \(asyrp models add <id>\):\n {2}celeba-hq +18 released directions/);
    const rm2 = await runCli(['models', 'remove', 'celeba-hq'], { cwd: dir, overrides: overrides(src) });
    expect(rm2.code).toBe(1);
    expect(rm2.err).toContain('celeba-hq is not installed');
  }, 60_000);

});
