/**
 * `asyrp models add` end to end against a loopback server: a reduced-size random-weight checkpoint in the
 * official DDPM format (tools/make_random_checkpoint.py) is offered behind an HTML page, a 404 and a
 * connection cut mid-file; the command skips the first two, resumes the third, converts with the real
 * Python converter, runs the smoke edit in the real engine and installs; `asyrp models` lists it and
 * `asyrp models remove` removes it. A wrong hash and a missing Python leave nothing in models/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { readJson, repoRoot, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

let server: FileServer;
let dir: string;
let ckpt: Buffer;
let sha: string;
let arch: Record<string, unknown>;

function sources(entry: Record<string, unknown>): string {
  const path = join(dir, `sources-${Math.random().toString(36).slice(2)}.json`);
  const catalog = readJson<Record<string, unknown>>(join(repoRoot, 'config', 'model-sources.json'));
  const real = (catalog.backbones as Record<string, Record<string, unknown>>)['celeba-hq']!;
  catalog.backbones = {
    'celeba-hq': { ...real, parameters: 1, minBytes: ckpt.length, maxBytes: ckpt.length, sha256: null, archConfig: arch, ...entry },
  };
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

function overrides(modelSources: string, extra: Record<string, unknown> = {}) {
  return { modelsDir: join(dir, 'models'), dataDir: join(dir, 'data'), modelSources, python: '/usr/bin/python3', logLevel: 'warn', ...extra };
}

beforeAll(async () => {
  dir = tempDir('asyrp-models-add-');
  const file = join(dir, 'celeba_hq.ckpt');
  const cfg = join(dir, 'arch.json');
  execFileSync('/usr/bin/python3', [join(repoRoot, 'tools', 'make_random_checkpoint.py'), '--backbone', 'celeba-hq', '--width', 'tiny', '--out', file, '--config-out', cfg], { stdio: 'pipe' });
  ckpt = readFileSync(file);
  sha = createHash('sha256').update(ckpt).digest('hex');
  arch = readJson(cfg);
  server = await startFileServer({
    '/login/celeba_hq.ckpt': { body: Buffer.from('<!DOCTYPE html><html><body>Sign in to download</body></html>'), contentType: 'text/html' },
    '/cut/celeba_hq.ckpt': { body: ckpt, cutAfter: Math.floor(ckpt.length / 3) },
  });
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
