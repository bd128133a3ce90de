/**
 * kill -9 during a burst of submits and while jobs finish, with a real engine child process: a restart
 * removes what the interrupted submits left (and says how much), runs every acknowledged job, and never
 * runs a job again once it was reported done, failed or cancelled, even when the database could not
 * take that final state (final.json carries it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient, EngineClientError } from '../../src/engine/client/engine-client.js';
import type { JobStatus } from '../../src/engine/client/api-types.js';
import type { StartReport } from '../../src/engine/service/engine-service.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface Child {
  readonly child: ChildProcess;
  readonly client: EngineClient;
  readonly started: StartReport;
  /** Everything the child logged so far. */
  readonly log: () => string;
}

async function startChild(dataDir: string, engine: Record<string, unknown>, faults: Record<string, unknown> = {}): Promise<Child> {
  const args = ['--import', 'tsx', join(repoRoot, 'test/helpers/engine-child.ts'), dataDir, JSON.stringify(engine), JSON.stringify(faults)];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`engine child exited with ${code}: ${log}`)));
  });
  const { url, started } = JSON.parse(line) as { url: string; started: StartReport };
  return { child, client: new EngineClient({ baseUrl: url }), started, log: () => log };
}

async function kill9(c: Child): Promise<void> {
  c.child.kill('SIGKILL');
  if (c.child.exitCode === null && c.child.signalCode === null) await new Promise((r) => c.child.once('exit', r));
}

async function until(what: string, test: () => Promise<boolean>, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Same start (the database keeps milliseconds of its own clock): a job run again would start seconds later. */
function sameStart(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && Math.abs(Date.parse(a) - Date.parse(b)) < 1000;
}

/** Lets the restarted worker run one whole job: whatever it would pick up, it has had its turn. */
async function workerHadItsTurn(c: Child): Promise<void> {
  const probe = await c.client.submit({ imageBase64: image, recipe: 'shift steps:3', owner: 'probe' });
  expect((await c.client.wait(probe.id)).state).toBe('done');
}

const engine = { maxBatch: 4, maxRunningPerOwner: 2, maxQueuedPerOwner: 10 };
const image = sampleImageBase64();

describe('crash recovery (kill -9)', () => {
  it('during a burst of submits: the restart removes the leftovers, says how much, and runs every acknowledged job', async () => {
    const dataDir = tempDir('asyrp-submit-kill-');
    const first = await startChild(dataDir, engine);
    const pending = Array.from({ length: 24 }, (_, i) =>
      first.client.submit({ imageBase64: image, recipe: `shift steps:3 seed:${i}`, owner: `k${i % 12}` }).then(
        (r) => r.id,
        (e: unknown) => {
          if (e instanceof EngineClientError && e.code === 'UNAVAILABLE') return null;
          throw e;
        },
      ),
    );
    await Promise.race(pending);
    await kill9(first);
    const acknowledged = (await Promise.all(pending)).filter((id): id is string => id !== null);
    expect(acknowledged.length).toBeGreaterThan(0);

    // Besides whatever the kill interrupted, exactly what a submit killed between its files and its row
    // leaves, and temp files of atomic writes that never got renamed.
    const orphan = randomUUID();
    mkdirSync(join(dataDir, 'jobs', orphan));
    writeFileSync(join(dataDir, 'jobs', orphan, 'input.bin'), Buffer.from(image, 'base64'));
    writeFileSync(join(dataDir, 'jobs', orphan, 'request.json'), '{}');
    writeFileSync(join(dataDir, 'jobs', acknowledged[0]!, 'result.png.0a1b2c3d.tmp'), 'half');
    writeFileSync(join(dataDir, 'cache', '0123456789abcdef.f32.deadbeef.tmp'), 'half');

    const second = await startChild(dataDir, engine, { logLevel: 'info' });
    expect(second.started.removedFolders).toBeGreaterThanOrEqual(1);
    expect(second.started.removedTempFiles).toBeGreaterThanOrEqual(2);
    expect(second.log()).toContain(`removed what interrupted submits left: ${second.started.removedFolders} job folder(s) without a database row, ${second.started.removedTempFiles} temp file(s)`);
    expect(files(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Every folder left is a job the engine knows.
    const folders = readdirSync(join(dataDir, 'jobs'));
    expect(folders).not.toContain(orphan);
    for (const id of folders) expect((await second.client.status(id)).id).toBe(id);
    const final = await Promise.all(acknowledged.map((id) => second.client.wait(id)));
    expect(final.map((s) => s.state)).toEqual(acknowledged.map(() => 'done'));
  }, 50_000);

  it('while jobs finish: a job reported done, failed or cancelled before the kill never runs again', async () => {
    const dataDir = tempDir('asyrp-finish-kill-');
    const first = await startChild(dataDir, { ...engine, jobTimeoutMs: 1500 });
    const timesOut = await first.client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'a' });
    const cancelled = await first.client.submit({ imageBase64: image, recipe: 'steps:1000 seed:2', model: 'tiny-unet', owner: 'b' });
    const quick = await Promise.all([3, 4, 5].map((i) => first.client.submit({ imageBase64: image, recipe: `shift steps:${i}`, owner: 'c' })));
    await until('the job to run', async () => (await first.client.status(cancelled.id)).state === 'running');
    await first.client.cancel(cancelled.id); // a running job stops at its next step
    expect((await first.client.wait(cancelled.id)).state).toBe('cancelled');
    const before: JobStatus[] = [await first.client.wait(timesOut.id), await first.client.status(cancelled.id), await first.client.wait(quick[0]!.id)];
    expect(before.map((s) => s.state)).toEqual(['failed', 'cancelled', 'done']);
    expect(before[0]!.error?.code).toBe('TIMEOUT');
    await kill9(first);

    const second = await startChild(dataDir, engine);
    await workerHadItsTurn(second);
    const after = await Promise.all(before.map((s) => second.client.status(s.id)));
    for (const [i, s] of after.entries()) {
      expect(s.state, s.id).toBe(before[i]!.state);
      expect(sameStart(s.startedAt, before[i]!.startedAt), `${s.id} started ${before[i]!.startedAt}, then ${s.startedAt}`).toBe(true);
    }
    expect((await second.client.result(quick[0]!.id)).length).toBeGreaterThan(100);
    // The rest of the quick ones ran or run to the end, once.
    for (const q of quick) expect((await second.client.wait(q.id)).state).toBe('done');
  }, 50_000);

  it('a final state the database refused is kept in final.json: reported, applied at restart, never run again', async () => {
    const dataDir = tempDir('asyrp-final-json-');
    const first = await startChild(dataDir, engine, { failFinalMarks: true });
    const cancelled = await first.client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'a' });
    const done = await first.client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'b' });
    await until('the job to run', async () => (await first.client.status(cancelled.id)).state === 'running');
    await first.client.cancel(cancelled.id); // a running job stops at its next step
    expect((await first.client.wait(cancelled.id)).state).toBe('cancelled');
    const before = [await first.client.status(cancelled.id), await first.client.wait(done.id)];
    expect(before.map((s) => s.state)).toEqual(['cancelled', 'done']);
    await kill9(first);

    const second = await startChild(dataDir, engine, { logLevel: 'info' });
    expect(second.started).toMatchObject({ reconciled: 2, recovered: 0 });
    expect(second.log()).toContain('recorded 2 final state(s) found in final.json but not in the database');
    await workerHadItsTurn(second);
    const after = await Promise.all(before.map((s) => second.client.status(s.id)));
    expect(after.map((s) => s.state)).toEqual(['cancelled', 'done']);
    for (const [i, s] of after.entries()) expect(sameStart(s.startedAt, before[i]!.startedAt), `${s.id} started ${before[i]!.startedAt}, then ${s.startedAt}`).toBe(true);
    expect((await second.client.result(done.id)).length).toBeGreaterThan(100);
  }, 40_000);
});
