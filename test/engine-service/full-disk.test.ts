/**
 * A full disk: the engine's data folder on a 256 KiB tmpfs. A submit that cannot persist its job is
 * refused with IO_FAILED ("the disk is full"), nothing half-written is left behind as a job, and the
 * engine keeps serving. Mounting needs root (as on the dev machines and CI here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { EngineClientError } from '../../src/engine/client/engine-client.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

const root = tempDir('asyrp-fulldisk-');
const mnt = join(root, 'small');
let server: EngineServer;

beforeAll(async () => {
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test mounts a small tmpfs to fill it and needs root: ${(e as Error).message}`);
  }
  const config = loadConfig({
    root: repoRoot,
    env: {},
    overrides: { dataDir: join(mnt, 'data'), modelsDir: testModels, logLevel: 'warn', storage: { path: join(root, 'a.db') }, engine: { port: 0, models: ['analytic'] } },
  });
  server = await startEngineServer(config);
});

afterAll(async () => {
  await server?.close();
  execFileSync('umount', [mnt]);
});

describe('a full disk', () => {
  it('refuses a job it cannot persist, with IO_FAILED, and recovers when space is freed', async () => {
    const client = new EngineClient({ baseUrl: server.url });
    // Fill the disk.
    let i = 0;
    try {
      for (; i < 1000; i++) writeFileSync(join(mnt, `fill-${i}`), Buffer.alloc(16 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    let err: EngineClientError | undefined;
    try {
      await client.submit({ imageBase64: sampleImageBase64(), recipe: 'shift', owner: 'f' });
    } catch (e) {
      err = e as EngineClientError;
    }
    expect(err?.code).toBe('IO_FAILED');
    expect(err?.status).toBe(507);
    expect(err?.message).toMatch(/the disk is full/);
    expect((await client.health()).queue).toEqual({ queued: 0, running: 0 });
    expect(readdirSync(join(mnt, 'data', 'jobs'))).toEqual([]);
    // Free space: the engine works again.
    for (let k = 0; k < i; k++) execFileSync('rm', ['-f', join(mnt, `fill-${k}`)]);
    const job = await client.submit({ imageBase64: sampleImageBase64(), recipe: 'shift steps:5', owner: 'f' });
    expect((await client.wait(job.id)).state).toBe('done');
    expect(readdirSync(join(mnt, 'data', 'jobs'))).toContain(job.id);
  });
});
