/** Cancelling in every phase of a job, and the per-job timeout. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import type { JobPhase } from '../../src/engine/client/api-types.js';
import { encodeDirection } from '../../src/engine/directions/direction-file.js';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { sampleImageBase64 } from '../helpers/engine.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

let server: EngineServer;
let client: EngineClient;
const image = sampleImageBase64();

beforeAll(async () => {
  // The tiny UNet with a random direction, so a job has all four phases and is slow enough to catch each.
  const dir = tempDir('asyrp-phases-');
  cpSync(join(testModels, 'tiny-unet'), join(dir, 'models', 'tiny-unet'), { recursive: true });
  mkdirSync(join(dir, 'models', 'tiny-unet', 'directions'));
  const deltaH = new GaussianRng(4).fillNormal(new Float32Array(16 * 8 * 8));
  writeFileSync(join(dir, 'models', 'tiny-unet', 'directions', 'rand.safetensors'), encodeDirection({ meta: { name: 'rand', description: 'random' }, timesteps: Int32Array.from([0]), deltaH, hspace: [16, 8, 8] }));
  const config = loadConfig({
    root: repoRoot,
    env: {},
    overrides: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), logLevel: 'warn', storage: { path: join(dir, 'a.db') }, engine: { port: 0, maxBatch: 4, jobTimeoutMs: 60_000 } },
  });
  server = await startEngineServer(config);
  client = new EngineClient({ baseUrl: server.url });
});
afterAll(async () => server?.close());

describe('cancel', () => {
  it.each(['inversion', 'editing', 'denoising', 'boosting'] as JobPhase[])('stops a job in its %s phase', async (phase) => {
    const job = await client.submit({ imageBase64: image, recipe: `rand:0.2 steps:300 t_edit:500 t_boost:250 seed:${phase.length}`, owner: `cancel-${phase}` });
    let seen: JobPhase | undefined;
    // Bounded by time, not by a count of polls: the inference thread runs at a lower priority than this one
    // (engine.inferenceNice), so on a busy machine a few thousand polls can pass within the first phase.
    const deadline = Date.now() + 50_000;
    while (seen !== phase && Date.now() < deadline) {
      const s = await client.status(job.id);
      seen = s.phase;
      if (s.state !== 'running' && s.state !== 'queued') throw new Error(`job ended (${s.state}) before reaching ${phase}`);
    }
    expect(seen).toBe(phase);
    await client.cancel(job.id);
    const final = await client.wait(job.id);
    expect(final.state).toBe('cancelled');
    expect(final.step).toBeLessThan(final.total);
  }, 60_000);
});

describe('timeout', () => {
  it('fails a job that runs longer than engine.jobTimeoutMs with TIMEOUT', async () => {
    const dir = tempDir('asyrp-timeout-');
    const config = loadConfig({
      root: repoRoot,
      env: {},
      overrides: { dataDir: join(dir, 'data'), modelsDir: testModels, logLevel: 'warn', storage: { path: join(dir, 'a.db') }, engine: { port: 0, models: ['tiny-unet'], jobTimeoutMs: 150 } },
    });
    const s = await startEngineServer(config);
    try {
      const c = new EngineClient({ baseUrl: s.url });
      const job = await c.submit({ imageBase64: image, recipe: 'steps:1000', owner: 't' });
      const final = await c.wait(job.id);
      expect(final.state).toBe('failed');
      expect(final.error).toMatchObject({ code: 'TIMEOUT' });
    } finally {
      await s.close();
    }
  });
});
