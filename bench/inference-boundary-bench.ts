/**
 * Worker thread or child process for the inference worker (issue #30, docs/scaling.md)? Times the round
 * trip of a batch-16 UNet call of the default model (toyfaces-32, every sample edited: about 2.4 MB of
 * tensors each way) through each boundary, and how the main thread answers HTTP meanwhile (a /health
 * server on this thread, polled every 10 ms from this thread, as the engine's would be).
 *
 *   node --import tsx bench/inference-boundary-bench.ts [--calls 40] [--threads 2]
 *
 * inline: the graph on this thread (the old path, engine.inference "inline"): onnxruntime's own time
 * and nothing else, the floor the two boundaries are measured against (health waits behind each call).
 * thread: InferenceHost, the product's path (ArrayBuffers transferred, no copy).
 * process: child_process.fork with serialization 'advanced' (bench/inference-child.ts), tensors copied
 * through the IPC pipe both ways and (de)serialised on both main threads.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InferenceHost } from '../src/engine/onnx/inference-host.js';
import { inlineBackend } from '../src/engine/onnx/ort-graph.js';
import type { TensorData } from '../src/engine/onnx/inference-protocol.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('calls', 40);
const THREADS = arg('threads', Math.min(2, availableParallelism()));
const B = 16;
const R = 32;
const [C, H, W] = [128, 16, 16];
const unetPath = fileURLToPath(new URL('../models/toyfaces-32/unet.onnx', import.meta.url));

function feeds(): Record<string, TensorData> {
  const x = new Float32Array(B * 3 * R * R).map((_, i) => Math.sin(i));
  const t = new Float32Array(B).map((_, i) => 50 * i);
  const dh = new Float32Array(B * C * H * W).fill(0.01);
  return { x: { data: x, dims: [B, 3, R, R] }, t: { data: t, dims: [B] }, delta_h: { data: dh, dims: [B, C, H, W] } };
}

type Runner = { run(f: Record<string, TensorData>): Promise<{ outputs: Record<string, TensorData>; runMs: number }>; close(): Promise<void> };

async function inlineRunner(): Promise<Runner> {
  const backend = inlineBackend(THREADS);
  const graph = await backend.load(unetPath, { provider: 'cpu' });
  return { run: (f) => graph.run(f), close: () => backend.close() };
}

async function threadRunner(): Promise<Runner> {
  const host = new InferenceHost({ intraOpThreads: THREADS });
  const graph = await host.load(unetPath, { provider: 'cpu' });
  return { run: (f) => graph.run(f), close: () => host.close() };
}

async function processRunner(): Promise<Runner> {
  const child = fork(fileURLToPath(new URL('./inference-child.ts', import.meta.url)), [], { serialization: 'advanced', execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<{ outputs: Record<string, TensorData>; runMs: number }>((resolve) => child.once('message', resolve as (m: unknown) => void));
  child.send({ op: 'load', path: unetPath, options: { provider: 'cpu', intraOpThreads: THREADS } });
  await next();
  return {
    run: (f) => {
      const answer = next();
      child.send({ op: 'run', feeds: f });
      return answer;
    },
    close: async () => {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;

async function measure(name: string, make: () => Promise<Runner>) {
  const runner = await make();
  for (let i = 0; i < 3; i++) await runner.run(feeds()); // warm-up: arenas, first-call allocations
  const server = createServer((_, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  const health: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      await (await fetch(url)).arrayBuffer();
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const wall: number[] = [];
  const overhead: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const f = feeds();
    const t = performance.now();
    const r = await runner.run(f);
    const ms = performance.now() - t;
    if (r.outputs.eps?.data.length !== B * 3 * R * R) throw new Error(`${name}: wrong output`);
    wall.push(ms);
    overhead.push(ms - r.runMs);
  }
  polling = false;
  await poller;
  server.close();
  await runner.close();
  const s = (a: number[]) => [...a].sort((x, y) => x - y);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return { name, callP50: q(s(wall), 0.5), callP99: q(s(wall), 0.99), overheadMean: mean(overhead), overheadP50: q(s(overhead), 0.5), healthP50: q(s(health), 0.5), healthP99: q(s(health), 0.99), healthN: health.length };
}

const load0 = loadavg()[0]!.toFixed(1);
// Alternated, so a change in the machine's load falls on both.
const rows = [];
for (const round of [1, 2]) {
  rows.push({ round, ...(await measure('inline (no boundary)', inlineRunner)) });
  rows.push({ round, ...(await measure('worker thread', threadRunner)) });
  rows.push({ round, ...(await measure('child process', processRunner)) });
}
process.stdout.write(`toyfaces-32 UNet, B=${B} (all edited), ${THREADS} intra-op threads, ${CALLS} calls per row; load average ${load0} -> ${loadavg()[0]!.toFixed(1)}\n\n`);
process.stdout.write('| boundary | round | call p50 ms | call p99 ms | outside onnxruntime, mean ms | p50 ms | health p50 ms | health p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n');
const f = (n: number) => n.toFixed(1);
for (const r of rows) process.stdout.write(`| ${r.name} | ${r.round} | ${f(r.callP50)} | ${f(r.callP99)} | ${f(r.overheadMean)} | ${f(r.overheadP50)} | ${f(r.healthP50)} | ${f(r.healthP99)} |\n`);
