/**
 * The `asyrp models add` tests' shared set-up: a tiny random CelebA-HQ DDPM checkpoint made by
 * tools/make_random_checkpoint.py, served by a loopback file server, and a one-entry catalog pointing at it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFileServer, type FileServer, type Route } from './file-server.js';
import { readJson, repoRoot, tempDir } from './paths.js';

export interface TinyCheckpoint {
  readonly dir: string;
  readonly ckpt: Buffer;
  readonly sha: string;
  readonly arch: Record<string, unknown>;
  readonly server: FileServer;
  /** A catalog file whose only backbone is celeba-hq sized for the tiny checkpoint, with `entry` on top. */
  sources(entry: Record<string, unknown>): string;
  /** Config overrides that put models and data in the test's folder. */
  overrides(modelSources: string, extra?: Record<string, unknown>): Record<string, unknown>;
}

export async function tinyCheckpoint(routes: (ckpt: Buffer) => Record<string, Route>): Promise<TinyCheckpoint> {
  const dir = tempDir('asyrp-models-add-');
  const file = join(dir, 'celeba_hq.ckpt');
  const cfg = join(dir, 'arch.json');
  execFileSync('/usr/bin/python3', [join(repoRoot, 'tools', 'make_random_checkpoint.py'), '--backbone', 'celeba-hq', '--width', 'tiny', '--out', file, '--config-out', cfg], { stdio: 'pipe' });
  const ckpt = readFileSync(file);
  const sha = createHash('sha256').update(ckpt).digest('hex');
  const arch = readJson<Record<string, unknown>>(cfg);
  const server = await startFileServer(routes(ckpt));
  return {
    dir,
    ckpt,
    sha,
    arch,
    server,
    sources(entry) {
      const path = join(dir, `sources-${Math.random().toString(36).slice(2)}.json`);
      const catalog = readJson<Record<string, unknown>>(join(repoRoot, 'config', 'model-sources.json'));
      const real = (catalog.backbones as Record<string, Record<string, unknown>>)['celeba-hq']!;
      catalog.backbones = {
        'celeba-hq': { ...real, parameters: 1, minBytes: ckpt.length, maxBytes: ckpt.length, sha256: null, archConfig: arch, ...entry },
      };
      writeFileSync(path, JSON.stringify(catalog));
      return path;
    },
    overrides(modelSources, extra = {}) {
      return { modelsDir: join(dir, 'models'), dataDir: join(dir, 'data'), modelSources, python: '/usr/bin/python3', logLevel: 'warn', ...extra };
    },
  };
}
