/**
 * The inference worker (issue #30): while a UNet call computes in the worker, the engine's HTTP API is
 * answered; a worker that dies fails the jobs it was computing with a typed reason, is replaced, and the
 * engine goes on. The slow model (test/models/slow-unet, tools/make_slow_model.py) makes one call last
 * seconds, so "in flight" is a state the test can observe rather than a race it has to win.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { InferenceHost } from '../../src/engine/onnx/inference-host.js';
import type { UNetSession } from '../../src/engine/onnx/unet-session.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { engineConfig, sampleImageBase64 } from '../helpers/engine.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

const image = sampleImageBase64();
let server: EngineServer;
let client: EngineClient;
let slow: UNetSession;

beforeAll(async () => {
  // The test models, and the default model for its attribute reader (a submit's domain check runs it).
  const modelsDir = join(tempDir('asyrp-models-'), 'models');
  mkdirSync(modelsDir);
  for (const id of ['slow-unet', 'analytic']) symlinkSync(join(testModels, id), join(modelsDir, id));
  symlinkSync(join(repoRoot, 'models', 'toyfaces-32'), join(modelsDir, 'toyfaces-32'));
  const config = engineConfig(tempDir('asyrp-engine-'), { models: ['slow-unet', 'analytic', 'toyfaces-32'], inference: 'worker', maxBatch: 4 });
  server = await startEngineServer({ ...config, modelsDir });
  client = new EngineClient({ baseUrl: server.url });
  slow = server.models.get('slow-unet')!.unet;
});
afterAll(async () => server?.close());

/** Waits until a call of the slow UNet has been sent to the worker and has not come back. */
async function callInFlight(): Promise<void> {
  await vi.waitFor(() => expect(slow.inFlight).toBe(1), { timeout: 30_000, interval: 2 });
}

describe('inference worker', () => {
  it('runs the graphs in a worker thread', () => {
    expect(server.inference.mode).toBe('worker');
    expect(server.inference).toBeInstanceOf(InferenceHost);
  });

  it('answers /v1/health and a submit while a UNet call is in flight, before that call returns', async () => {
    const job = await client.submit({ imageBase64: image, recipe: 'seed:1', owner: 'slow-a', model: 'slow-unet' });
    await callInFlight();
    const returnedBefore = slow.calls;

    const health = await client.health();
    expect(health.status).toBe('ok');
    // The call that was in flight when health was asked has not returned: no call came back meanwhile.
    expect(slow.calls).toBe(returnedBefore);
    expect(slow.inFlight).toBe(1);

    const second = await client.submit({ imageBase64: image, recipe: 'seed:2', owner: 'slow-b', model: 'slow-unet' });
    expect(second.duplicate).toBe(false);
    expect(slow.calls).toBe(returnedBefore);
    expect(slow.inFlight).toBe(1);

    await client.cancel(job.id);
    await client.cancel(second.id);
    expect((await client.wait(job.id)).state).toBe('cancelled');
    expect((await client.wait(second.id)).state).toBe('cancelled');
  }, 60_000);

  it('answers a submit whose domain check runs an attribute reader while a UNet call is in flight', async () => {
    const job = await client.submit({ imageBase64: image, recipe: 'seed:6', owner: 'slow-c', model: 'slow-unet' });
    await callInFlight();
    const returnedBefore = slow.calls;
    // toyfaces-32 ships a reader: its domain check runs it in the checks worker, not behind the UNet call.
    const checked = await client.submit({ imageBase64: image, recipe: 'steps:3 seed:7', owner: 'reader', model: 'toyfaces-32' });
    expect(checked.duplicate).toBe(false);
    expect(slow.calls).toBe(returnedBefore);
    expect(slow.inFlight).toBe(1);
    await client.cancel(job.id);
    await client.cancel(checked.id);
    expect((await client.wait(job.id)).state).toBe('cancelled');
  }, 60_000);

  it('writes the results of a finished job while the next UNet call of its batch computes', async () => {
    // Two jobs in one batch; the short one ends first. Its final state is reported (inside the engine,
    // synchronously with the recording) while the long one's next call is already in the worker: the
    // batch did not wait for the short job's files. With engine.inference "inline" it waits.
    const short = await client.submit({ imageBase64: image, recipe: 'steps:2 seed:8', owner: 'overlap-a', model: 'slow-unet' });
    const long = await client.submit({ imageBase64: image, recipe: 'steps:6 seed:9', owner: 'overlap-b', model: 'slow-unet' });
    const inFlightWhenDone = new Promise<number>((resolve) => {
      const stop = server.service.subscribe(short.id, false, (e) => {
        if (e.status.state !== 'done') return;
        stop();
        resolve(slow.inFlight);
      });
    });
    expect(await inFlightWhenDone).toBe(1);
    expect((await client.status(long.id)).state).toBe('running');
    expect((await client.result(short.id, 'after')).length).toBeGreaterThan(0);
    await client.cancel(long.id);
    expect((await client.wait(long.id)).state).toBe('cancelled');
  }, 60_000);

  it('fails the jobs of a worker that dies with INFERENCE_FAILED, starts a new one and goes on', async () => {
    const host = server.inference as InferenceHost;
    const restarts = host.restarts;
    const job = await client.submit({ imageBase64: image, recipe: 'seed:3', owner: 'crash', model: 'slow-unet' });
    await callInFlight();
    host.kill();

    const failed = await client.wait(job.id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('INFERENCE_FAILED');
    expect(failed.error?.message).toMatch(/inference worker stopped/);
    expect(host.restarts).toBe(restarts + 1);

    // The engine goes on: a new job on another model runs to the end in a new worker (which loads every
    // open graph again first).
    expect((await client.health()).status).toBe('ok');
    const next = await client.submit({ imageBase64: image, recipe: 'steps:3 seed:4', owner: 'after-crash', model: 'analytic' });
    const done = await client.wait(next.id);
    expect(done.state).toBe('done');
    expect((await client.result(next.id, 'after')).length).toBeGreaterThan(0);
  }, 60_000);
});
