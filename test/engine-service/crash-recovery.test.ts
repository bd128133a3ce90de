/**
 * kill -9 during a burst of submits, with a real engine child process: a restart removes what the
 * interrupted submits left (and says how much) and runs every acknowledged job.
 * (kill -9 once jobs have finished: final-state-recovery.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClientError } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { kill9, killEngineProcesses, startEngineProcess } from '../helpers/engine-process.js';
import { tempDir } from '../helpers/paths.js';

afterEach(killEngineProcesses);

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const engine = { maxBatch: 4, maxRunningPerOwner: 2, maxQueuedPerOwner: 10 };
const image = sampleImageBase64();

describe('crash recovery (kill -9)', () => {
  it('during a burst of submits: the restart removes the leftovers, says how much, and runs every acknowledged job', async () => {
    const dataDir = tempDir('asyrp-submit-kill-');
    const first = await startEngineProcess(dataDir, engine);
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

    // Besides whatever the kill interrupted, exactly what a submit killed between its input and its row
    // leaves, a folder of a job with no row (an older engine's submit, or one whose row was purged), and
    // temp files of atomic writes that never got renamed.
    const orphan = randomUUID();
    writeFileSync(join(dataDir, 'jobs', `${orphan}.input`), Buffer.from(image, 'base64'));
    const orphanFolder = randomUUID();
    mkdirSync(join(dataDir, 'jobs', orphanFolder));
    writeFileSync(join(dataDir, 'jobs', orphanFolder, 'input.bin'), Buffer.from(image, 'base64'));
    mkdirSync(join(dataDir, 'jobs', acknowledged[0]!), { recursive: true });
    writeFileSync(join(dataDir, 'jobs', acknowledged[0]!, 'result.png.0a1b2c3d.tmp'), 'half');
    writeFileSync(join(dataDir, 'cache', '0123456789abcdef.f32.deadbeef.tmp'), 'half');
    // Temp files the restart finds (the ones above, and any the kill cut off). The restarted engine's own
    // writes in progress (results and cached inversions, written on libuv's pool) are not leftovers.
    const leftTemp = files(dataDir).filter((f) => f.endsWith('.tmp'));

    const second = await startEngineProcess(dataDir, engine, { logLevel: 'info' });
    expect(second.started.removedFolders).toBeGreaterThanOrEqual(2);
    expect(second.started.removedTempFiles).toBeGreaterThanOrEqual(2);
    expect(second.log()).toContain(`removed what interrupted submits left: ${second.started.removedFolders} job input(s) or folder(s) without a database row, ${second.started.removedTempFiles} temp file(s)`);
    expect(leftTemp.length).toBeGreaterThanOrEqual(2);
    expect(files(dataDir).filter((f) => leftTemp.includes(f))).toEqual([]);
    // Every folder and input left is a job the engine knows.
    const left = readdirSync(join(dataDir, 'jobs'));
    expect(left).not.toContain(`${orphan}.input`);
    expect(left).not.toContain(orphanFolder);
    for (const name of left) {
      const id = name.replace(/\.input$/, '');
      expect((await second.client.status(id)).id).toBe(id);
    }
    const final = await Promise.all(acknowledged.map((id) => second.client.wait(id)));
    expect(final.map((s) => s.state)).toEqual(acknowledged.map(() => 'done'));
  }, 50_000);
});
