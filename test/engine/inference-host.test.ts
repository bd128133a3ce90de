/**
 * The inference worker's host (src/engine/onnx/inference-host.ts) against the inline path, on the tiny
 * UNet: the same outputs bit for bit, the feeds handed over (transferred, so the caller's arrays are
 * left empty: nothing was copied element by element), a failing run answered with a typed error while
 * the worker goes on, and a killed worker replaced with its graphs loaded again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { EngineError } from '../../src/engine/errors.js';
import { InferenceHost } from '../../src/engine/onnx/inference-host.js';
import type { InferenceBackend, InferenceGraph, TensorData } from '../../src/engine/onnx/inference-protocol.js';
import { openInference } from '../../src/engine/onnx/open-inference.js';
import { testModels } from '../helpers/paths.js';

const path = join(testModels, 'tiny-unet', 'unet.onnx');
const R = 16;
const H: [number, number, number] = [16, 8, 8];
let host: InferenceHost;
let inline: InferenceBackend;
let inWorker: InferenceGraph;
let onThread: InferenceGraph;

/** B = 2 samples, the first edited (E = 1); fresh arrays each time (a run takes them). */
function feeds(seed: number): Record<string, TensorData> {
  const rng = new GaussianRng(seed);
  return {
    x: { data: rng.fillNormal(new Float32Array(2 * 3 * R * R)), dims: [2, 3, R, R] },
    t: { data: Float32Array.from([500, 250]), dims: [2] },
    delta_h: { data: rng.fillNormal(new Float32Array(H[0] * H[1] * H[2])), dims: [1, ...H] },
  };
}

beforeAll(async () => {
  host = new InferenceHost({ intraOpThreads: 1 });
  inline = await openInference({ mode: 'inline', intraOpThreads: 1 });
  inWorker = await host.load(path, { provider: 'cpu' });
  onThread = await inline.load(path, { provider: 'cpu' });
});
afterAll(async () => {
  await host?.close();
  await inline?.close();
});

describe('inference worker host', () => {
  it('gives the inline path’s outputs bit for bit, and reports the graph’s inputs and outputs', async () => {
    expect(inWorker.info.inputs.map((v) => v.name)).toEqual(onThread.info.inputs.map((v) => v.name));
    expect(inWorker.info.provider).toBe('cpu');
    const a = await inWorker.run(feeds(1));
    const b = await onThread.run(feeds(1));
    for (const name of ['eps', 'eps_edit', 'h']) {
      expect(a.outputs[name]!.dims).toEqual(b.outputs[name]!.dims);
      expect(Buffer.from(a.outputs[name]!.data.buffer, a.outputs[name]!.data.byteOffset, a.outputs[name]!.data.byteLength).equals(Buffer.from(b.outputs[name]!.data.buffer, b.outputs[name]!.data.byteOffset, b.outputs[name]!.data.byteLength))).toBe(true);
    }
    expect(a.runMs).toBeGreaterThan(0);
  });

  it('transfers the feeds instead of copying them: the caller’s arrays are empty afterwards', async () => {
    const f = feeds(2);
    const x = f.x!.data;
    expect(x.length).toBe(2 * 3 * R * R);
    await inWorker.run(f);
    expect(x.length).toBe(0);
    expect(x.buffer.byteLength).toBe(0);
  });

  it('answers a failing run with a typed error, and the next run works', async () => {
    const bad = { ...feeds(3), x: { data: new Float32Array(5), dims: [1, 5] } };
    const e = await inWorker.run(bad).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('INFERENCE_FAILED');
    expect((await inWorker.run(feeds(4))).outputs.eps!.data.length).toBe(2 * 3 * R * R);
    expect(host.restarts).toBe(0);
  });

  it('replaces a killed worker at the next call, with the graph loaded again', async () => {
    const inFlight = inWorker.run(feeds(5));
    host.kill();
    // The run in progress ends the worker when it returns (never inside onnxruntime), unanswered.
    const e = await inFlight.then(
      () => null,
      (err: unknown) => err,
    );
    expect((e as EngineError).code).toBe('INFERENCE_FAILED');
    expect((e as EngineError).details.reason).toBe('WORKER_EXITED');
    expect(host.restarts).toBe(1);
    const again = await inWorker.run(feeds(1));
    const ref = await onThread.run(feeds(1));
    expect(Array.from(again.outputs.eps!.data.subarray(0, 8))).toEqual(Array.from(ref.outputs.eps!.data.subarray(0, 8)));
  });
});
