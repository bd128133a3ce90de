/**
 * kill -9 while jobs finish, with a real engine child process: a job reported done, failed or cancelled
 * is never run again after a restart, even when the database could not take that final state (final.json
 * carries it; the database refusing is a fault injected at the storage boundary, faulty-storage.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/engine/client/api-types.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { kill9, killEngineProcesses, startEngineProcess, until, type EngineProcess } from '../helpers/engine-process.js';
import { tempDir } from '../helpers/paths.js';

afterEach(killEngineProcesses);

/** Same start (the database keeps milliseconds of its own clock): a job run again would start seconds later. */
function sameStart(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && Math.abs(Date.parse(a) - Date.parse(b)) < 1000;
}

/** Lets the restarted worker run one whole job: whatever it would pick up, it has had its turn. */
async function workerHadItsTurn(c: EngineProcess): Promise<void> {
  const probe = await c.client.submit({ imageBase64: image, recipe: 'shift steps:3', owner: 'probe' });
  expect((await c.client.wait(probe.id)).state).toBe('done');
}

const engine = { maxBatch: 4, maxRunningPerOwner: 2, maxQueuedPerOwner: 10 };
const image = sampleImageBase64();

describe('final states across kill -9', () => {
  it('while jobs finish: a job reported done, failed or cancelled before the kill never runs again', async () => {
    const dataDir = tempDir('asyrp-finish-kill-');
    const first = await startEngineProcess(dataDir, { ...engine, jobTimeoutMs: 1500 });
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

    const second = await startEngineProcess(dataDir, engine);
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
    const first = await startEngineProcess(dataDir, engine, { failFinalMarks: true });
    const cancelled = await first.client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'a' });
    const done = await first.client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'b' });
    await until('the job to run', async () => (await first.client.status(cancelled.id)).state === 'running');
    await first.client.cancel(cancelled.id); // a running job stops at its next step
    expect((await first.client.wait(cancelled.id)).state).toBe('cancelled');
    const before = [await first.client.status(cancelled.id), await first.client.wait(done.id)];
    expect(before.map((s) => s.state)).toEqual(['cancelled', 'done']);
    await kill9(first);

    const second = await startEngineProcess(dataDir, engine, { logLevel: 'info' });
    expect(second.started).toMatchObject({ reconciled: 2, recovered: 0 });
    expect(second.log()).toContain('recorded 2 final state(s) found in final.json but not in the database');
    await workerHadItsTurn(second);
    const after = await Promise.all(before.map((s) => second.client.status(s.id)));
    expect(after.map((s) => s.state)).toEqual(['cancelled', 'done']);
    for (const [i, s] of after.entries()) expect(sameStart(s.startedAt, before[i]!.startedAt), `${s.id} started ${before[i]!.startedAt}, then ${s.startedAt}`).toBe(true);
    expect((await second.client.result(done.id)).length).toBeGreaterThan(100);
  }, 40_000);
});
