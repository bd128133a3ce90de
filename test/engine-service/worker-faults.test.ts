/**
 * The worker under faults and over time: a job that throws fails alone with a typed code and the engine
 * goes on; finished jobs leave memory after engine.finishedJobTtlMs while their status and results stay
 * answerable from disk.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';
import { tempDir } from '../helpers/paths.js';

const image = sampleImageBase64();
const servers: EngineServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function until(what: string, test: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the worker', () => {
  it('fails a job whose input vanished with IO_FAILED and goes on with the next', async () => {
    const { server, client, dataDir } = await startTestEngine({ maxBatch: 1 });
    servers.push(server);
    const blocker = await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'a' });
    await until('the first job to run', async () => (await client.status(blocker.id)).state === 'running');
    const broken = await client.submit({ imageBase64: image, recipe: 'steps:5', model: 'tiny-unet', owner: 'b' });
    expect((await client.status(broken.id)).state).toBe('queued');
    rmSync(join(dataDir, 'jobs', `${broken.id}.input`));
    await client.cancel(blocker.id);
    const failed = await client.wait(broken.id);
    expect([failed.state, failed.error?.code]).toEqual(['failed', 'IO_FAILED']);
    const next = await client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'c' });
    expect((await client.wait(next.id)).state).toBe('done');
  });

  it('evicts finished jobs from memory after finishedJobTtlMs; status and results come from disk', async () => {
    const { server, client } = await startTestEngine({ finishedJobTtlMs: 1 });
    servers.push(server);
    const job = await client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'e' });
    const done = await client.wait(job.id);
    expect(done.state).toBe('done');
    await until('the job to leave memory', () => server.service.jobsInMemory === 0);
    const again = await client.status(job.id);
    expect([again.state, [...again.results].sort()]).toEqual(['done', [...done.results].sort()]);
    expect((await client.result(job.id)).length).toBeGreaterThan(100);
  });

  it('gives up a job the engine stopped in on each of three starts, with INTERRUPTED in its status', async () => {
    const dataDir = tempDir('asyrp-interrupted-');
    let id = '';
    for (let start = 0; start < 3; start++) {
      const { server, client } = await startTestEngine({}, dataDir);
      if (!id) id = (await client.submit({ imageBase64: image, recipe: 'steps:1000', model: 'tiny-unet', owner: 'i' })).id;
      await until('the job to run', async () => (await client.status(id)).state === 'running');
      await server.close(); // no drain: the job is left running, as by a crash
    }
    const { server, client } = await startTestEngine({}, dataDir);
    servers.push(server);
    const s = await client.status(id);
    expect([s.state, s.error?.code]).toEqual(['failed', 'INTERRUPTED']);
  });
});

