/**
 * `asyrp models add` with a released direction, end to end: a random-weight DDPM checkpoint whose middle
 * block and time embedding are 512 wide like the real ones (tools/make_random_checkpoint.py --width wide,
 * 8 px), and the released `smiling` DeltaBlock from the shared fixtures, both served on loopback; the
 * direction is downloaded, converted (one calibration trajectory), and the smoke edit applies it.
 * Slow (the 512-wide backbone is ~130 MB: 25-90 s to make and convert on 2 shared cores), so it runs with
 * `npm run test:slow`, not `npm test`, as the slow pytest marker does for full-size conversions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { readJson, repoRoot, sharedFixturePresent, sharedFixtures, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const SMILING = join(sharedFixtures, 'asyrp-official', 'directions', 'smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth');
const present = sharedFixturePresent(SMILING, 'models add with a released direction');

describe.runIf(present)('asyrp models add with a released direction', () => {
  let server: FileServer;
  let dir: string;
  let sources: string;

  beforeAll(async () => {
    dir = tempDir('asyrp-models-add-dir-');
    const file = join(dir, 'celeba_hq.ckpt');
    const cfg = join(dir, 'arch.json');
    execFileSync('/usr/bin/python3', [join(repoRoot, 'tools', 'make_random_checkpoint.py'), '--backbone', 'celeba-hq', '--width', 'wide', '--out', file, '--config-out', cfg], { stdio: 'pipe' });
    const ckpt = readFileSync(file);
    server = await startFileServer({
      '/ckpt/celeba_hq.ckpt': { body: ckpt },
      '/asyrp/checkpoint/smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth': { body: readFileSync(SMILING) },
    });
    const catalog = readJson<Record<string, Record<string, unknown>>>(join(repoRoot, 'config', 'model-sources.json'));
    const real = (catalog.backbones as Record<string, Record<string, unknown>>)['celeba-hq']!;
    catalog.directions = { ...catalog.directions, urlTemplate: `${server.url}/asyrp/checkpoint/{attr}_LC_{category}_t999_ninv40_ngen40_0.pth` };
    catalog.backbones = { 'celeba-hq': { ...real, parameters: 1, minBytes: ckpt.length, maxBytes: ckpt.length, sources: [`${server.url}/ckpt/celeba_hq.ckpt`], archConfig: readJson(cfg) } };
    sources = join(dir, 'sources.json');
    writeFileSync(sources, JSON.stringify(catalog));
  }, 120_000);
  afterAll(async () => server?.close());

  it('downloads and converts smiling, and the smoke edit moves the image along it', async () => {
    const overrides = { modelsDir: join(dir, 'models'), dataDir: join(dir, 'data'), modelSources: sources, python: '/usr/bin/python3', logLevel: 'warn' };
    const r = await runCli(['models', 'add', 'celeba-hq', '--directions', 'smiling', '--calibration', '1', '--json'], { cwd: dir, overrides });
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.directions).toEqual(['smiling']);
    expect(s.smoke).toMatchObject({ direction: 'smiling', steps: 4, provider: 'cpu' });
    expect(s.smoke.change).toBeGreaterThan(0);
    expect(s.tryCommand).toBe('asyrp edit <image> smiling --model celeba-hq --compare before-after.png');
    expect(readdirSync(join(dir, 'models', 'celeba-hq', 'directions'))).toEqual(['smiling.safetensors']);
    const manifest = readJson<{ install: { directionsFrom: string; calibration: number } }>(join(dir, 'models', 'celeba-hq', 'model.json'));
    expect(manifest.install).toMatchObject({ directionsFrom: 'kwonminki/Asyrp_official@a6c82dc760849dd4c1e878990ce38e824967e5b0', calibration: 1 });
    expect(existsSync(join(dir, 'data', 'downloads', 'smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth'))).toBe(false);
    const listed = await runCli(['directions', '--model', 'celeba-hq'], { cwd: dir, overrides });
    expect(listed.out).toMatch(/smiling .*\(t_edit 513\)/);
  }, 300_000);
});
