/**
 * A full disk: the engine's data folder on a 256 KiB tmpfs. A submit that cannot persist its job is
 * refused with IO_FAILED ("the disk is full"), nothing half-written is left behind as a job, and the
 * engine keeps serving. A job whose final state can be written nowhere (the disk full, and the database
 * refusing the write through a fault injected at the storage boundary, test/helpers/faulty-storage.ts)
 * is not reported final until it is written; killed (-9) in that state and restarted with space again,
 * the engine has lost nothing and left nothing half-written. Mounting needs root (as on the dev machines
 * and CI here).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { EngineClientError } from '../../src/engine/client/engine-client.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { withFailingFinalMarks } from '../helpers/faulty-storage.js';
import { kill9, killEngineProcesses, startEngineProcess } from '../helpers/engine-process.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

const root = tempDir('asyrp-fulldisk-');
const mnt = join(root, 'small');
let server: EngineServer;
let storage: Storage;
let databaseRefuses = false;

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
    overrides: { dataDir: join(mnt, 'data'), modelsDir: testModels, logLevel: 'warn', storage: { path: join(root, 'a.db') }, engine: { port: 0, models: ['analytic', 'tiny-unet'] } },
  });
  storage = openStorage({ path: config.storage.path });
  server = await startEngineServer(config, { storage: withFailingFinalMarks(storage, () => databaseRefuses) });
});

afterAll(async () => {
  await server?.close();
  storage?.close();
  execFileSync('umount', [mnt]);
});

afterEach(killEngineProcesses);

/** Fills a tmpfs; returns the files to remove to free it again. */
function fillDisk(at = mnt): string[] {
  const files: string[] = [];
  try {
    for (let i = 0; i < 1000; i++) {
      const f = join(at, `fill-${i}`);
      writeFileSync(f, Buffer.alloc(16 * 1024));
      files.push(f);
    }
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
  // A file that got its name but not its bytes still holds the name.
  files.push(join(at, `fill-${files.length}`));
  return files;
}

async function until(what: string, test: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

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

  it('does not report a job final while its final state can be written nowhere, and does once it can', async () => {
    const client = new EngineClient({ baseUrl: server.url });
    const job = await client.submit({ imageBase64: sampleImageBase64(), recipe: 'steps:1000', model: 'tiny-unet', owner: 'g' });
    await until('the job to run', async () => (await client.status(job.id)).state === 'running');
    databaseRefuses = true;
    const fill = fillDisk();
    await client.cancel(job.id);
    // It has stopped (no more steps), but neither final.json nor the database holds "cancelled".
    await until('the job to stop', async () => (await client.status(job.id)).phase === 'finishing');
    const stuck = await client.status(job.id);
    expect([stuck.state, stuck.phase]).toEqual(['running', 'finishing']);
    expect(storage.jobs.get(job.id).status).toBe('running');
    // Space again: final.json is written on the next retry, which is enough to report it.
    for (const f of fill) rmSync(f, { force: true });
    await until('cancelled to be reported', async () => (await client.status(job.id)).state === 'cancelled');
    expect(readdirSync(join(mnt, 'data', 'jobs', job.id))).toContain('final.json');
    // The database takes it once it can.
    databaseRefuses = false;
    await until('the database to record it', () => storage.jobs.get(job.id).status === 'cancelled');
  });

  it('killed (-9) with the disk full and a job unrecorded: the restart loses nothing and leaves nothing half-written', async () => {
    const disk = join(root, 'child-disk');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    try {
      const dataDir = join(disk, 'data');
      const first = await startEngineProcess(dataDir, { maxBatch: 2 }, { failFinalMarks: true });
      const job = await first.client.submit({ imageBase64: sampleImageBase64(), recipe: 'steps:1000', model: 'tiny-unet', owner: 'k' });
      await until('the job to run', async () => (await first.client.status(job.id)).state === 'running');
      const fill = fillDisk(disk);
      const refused = await first.client.submit({ imageBase64: sampleImageBase64(), recipe: 'shift', owner: 'k2' }).catch((e: unknown) => e as EngineClientError);
      expect((refused as EngineClientError).code).toBe('IO_FAILED');
      await first.client.cancel(job.id);
      await until('the job to stop', async () => (await first.client.status(job.id)).phase === 'finishing');
      await kill9(first);

      for (const f of fill) rmSync(f, { force: true });
      const second = await startEngineProcess(dataDir, { maxBatch: 2 });
      // Never reported cancelled, so it is not lost: it is queued again and can be cancelled for good.
      expect(second.started.recovered).toBe(1);
      await second.client.cancel(job.id);
      expect((await second.client.wait(job.id)).state).toBe('cancelled');
      // The job's input and its folder, nothing of the refused submit.
      expect(readdirSync(join(dataDir, 'jobs')).sort()).toEqual([job.id, `${job.id}.input`].sort());
      expect(readdirSync(join(dataDir, 'jobs', job.id)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await kill9(second);
    } finally {
      execFileSync('umount', [disk]);
    }
  }, 40_000);
});
