/** Crash recovery (SIGKILL) and graceful shutdown (SIGTERM) with a real child process. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { EngineClientError } from '../../src/engine/client/engine-client.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function startChild(dataDir: string, engine: Record<string, unknown>): Promise<{ child: ChildProcess; client: EngineClient; recovered: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/engine-child.ts'), dataDir, JSON.stringify(engine)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`engine child exited with ${code}`)));
  });
  const { url, recovered } = JSON.parse(line) as { url: string; recovered: number };
  return { child, client: new EngineClient({ baseUrl: url }), recovered };
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));
const engine = { maxBatch: 2, maxRunningPerOwner: 2, maxQueuedPerOwner: 10 };
const image = sampleImageBase64();

describe('engine durability', () => {
  it('after kill -9, a restart finishes every accepted job; none vanish', async () => {
    const dataDir = tempDir('asyrp-crash-');
    const first = await startChild(dataDir, engine);
    const ids = [];
    // Long enough (600 steps) that the poll below sees the first job part-way; kill -9 follows that very poll,
    // so the job cannot finish between the check and the kill.
    for (let i = 0; i < 4; i++) ids.push((await first.client.submit({ imageBase64: image, recipe: `steps:600 seed:${i}`, model: 'tiny-unet', owner: `o${i % 2}` })).id);
    // Wait until work is under way, then kill without warning.
    let seen = await first.client.status(ids[0]!);
    for (let tries = 0; tries < 400 && !(seen.state === 'running' && seen.step > 5); tries++) {
      await new Promise((r) => setTimeout(r, 25));
      seen = await first.client.status(ids[0]!);
    }
    first.child.kill('SIGKILL');
    expect(seen.state).toBe('running');
    await exited(first.child);

    const second = await startChild(dataDir, engine);
    expect(second.recovered).toBe(4);
    const final = await Promise.all(ids.map((id) => second.client.wait(id)));
    expect(final.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    expect((await second.client.result(ids[0]!)).length).toBeGreaterThan(100);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  }, 120_000);

  it('SIGTERM stops intake, lets running jobs finish, keeps queued ones for the next start', async () => {
    const dataDir = tempDir('asyrp-drain-');
    const first = await startChild(dataDir, { ...engine, maxBatch: 1, drainMs: 60_000 });
    const running = await first.client.submit({ imageBase64: image, recipe: 'steps:60', model: 'tiny-unet', owner: 'a' });
    const queued = await first.client.submit({ imageBase64: image, recipe: 'steps:60 seed:2', model: 'tiny-unet', owner: 'b' });
    for (let tries = 0; tries < 200 && (await first.client.status(running.id)).state !== 'running'; tries++) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    let refused: EngineClientError | undefined;
    try {
      await first.client.submit({ imageBase64: image, recipe: 'steps:5', model: 'tiny-unet', owner: 'c' });
    } catch (e) {
      refused = e as EngineClientError;
    }
    expect(refused?.code).toBe('SHUTTING_DOWN');
    expect(await exited(first.child)).toBe(0);

    const second = await startChild(dataDir, engine);
    expect((await second.client.status(running.id)).state).toBe('done');
    expect(second.recovered).toBe(1);
    expect((await second.client.wait(queued.id)).state).toBe('done');
    second.child.kill('SIGTERM');
    await exited(second.child);
  }, 120_000);
});
