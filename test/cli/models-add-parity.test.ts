/**
 * `asyrp models add --fp16` on a checkpoint whose weights overflow fp16 (tools/make_random_checkpoint.py
 * --scale 1e5): the converter's ONNX-vs-PyTorch parity check fails, and the install stops with the number
 * and the bound in one sentence, leaving nothing in models/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { readJson, repoRoot, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

let server: FileServer;
let dir: string;
let sources: string;

beforeAll(async () => {
  dir = tempDir('asyrp-models-add-parity-');
  const file = join(dir, 'church_outdoor.ckpt');
  const cfg = join(dir, 'arch.json');
  execFileSync('/usr/bin/python3', [join(repoRoot, 'tools', 'make_random_checkpoint.py'), '--backbone', 'church', '--width', 'tiny', '--scale', '1e5', '--out', file, '--config-out', cfg], { stdio: 'pipe' });
  const ckpt = readFileSync(file);
  server = await startFileServer({ '/church_outdoor.ckpt': { body: ckpt } });
  const catalog = readJson<Record<string, unknown>>(join(repoRoot, 'config', 'model-sources.json'));
  const real = (catalog.backbones as Record<string, Record<string, unknown>>)['church']!;
  catalog.backbones = { church: { ...real, parameters: 1, minBytes: ckpt.length, maxBytes: ckpt.length, sources: [`${server.url}/church_outdoor.ckpt`], archConfig: readJson(cfg) } };
  sources = join(dir, 'sources.json');
  writeFileSync(sources, JSON.stringify(catalog));
}, 30_000);
afterAll(async () => server?.close());

describe('asyrp models add, parity', () => {
  it('stops when the converted graph does not match PyTorch, with the number and the bound', async () => {
    const overrides = { modelsDir: join(dir, 'models'), dataDir: join(dir, 'data'), modelSources: sources, python: '/usr/bin/python3', logLevel: 'warn' };
    const r = await runCli(['models', 'add', 'church', '--fp16', '--directions', 'none'], { cwd: dir, overrides });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').at(-1)).toMatch(
      /^asyrp models add: the converted graph does not match PyTorch: largest difference (not a number|\d\.\d\de[+-]\d+), above the bound 3e-2 \(fp16\); the checkpoint may be corrupt, or report the numbers \(\{.*\}\)$/,
    );
    expect(existsSync(join(dir, 'models', 'church'))).toBe(false);
    expect(readdirSync(join(dir, 'models')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });
});
