/**
 * For test/engine/inference-nice.test.ts, in a fresh process (`node --import tsx`, started with
 * UV_THREADPOOL_SIZE=16): opens an InferenceHost with
 * nice 7, runs the tiny UNet once, then has libuv's pool read a file 32 times, and prints one JSON line:
 * this process's pid and nice, and every thread's nice before the host started and at the end.
 */
import { readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceHost } from '../../src/engine/onnx/inference-host.js';
import { testModels } from './paths.js';
import { threadNices } from './thread-nice.js';

const before = threadNices();
const host = new InferenceHost({ intraOpThreads: 2, nice: 7 });
const graph = await host.load(join(testModels, 'tiny-unet', 'unet.onnx'), { provider: 'cpu' });
const R = 16;
await graph.run({
  x: { data: new Float32Array(2 * 3 * R * R), dims: [2, 3, R, R] },
  t: { data: Float32Array.from([500, 250]), dims: [2] },
  delta_h: { data: new Float32Array(16 * 8 * 8), dims: [1, 16, 8, 8] },
});
await Promise.all(Array.from({ length: 32 }, () => readFile(fileURLToPath(import.meta.url))));
const after = threadNices();
await host.close();
process.stdout.write(JSON.stringify({ pid: process.pid, base: getPriority(), before, after }) + '\n');
