/**
 * One tick's h-net for a batch of 16 edited rows (issue #30): the JavaScript loops (addHNetRows, the
 * definition) against onnxruntime's MatMul graph (addHNetRowsOrt, what the inference worker and inline
 * runs use), on toyfaces-32's h-space (C 128, P 256) with the shipped eyes-closed net (D 32), a random
 * net of 64 units (issue #32's width) and one of 64 units whose first layer is a 3×3 convolution (Conv nodes;
 * K² = 9 times W1's work). Median over the calls, after warm-up; the ratio is JS / onnxruntime.
 *
 *   node --import tsx bench/h-net-bench.ts [--calls 30] [--threads 2]
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GaussianRng } from '../src/engine/diffusion/gaussian-rng.js';
import { loadDirection } from '../src/engine/directions/direction-file.js';
import type { HNet } from '../src/engine/directions/h-net.js';
import { addHNetRows, type HNetRows } from '../src/engine/directions/h-net-rows.js';
import { HNetSession, addHNetRowsOrt } from '../src/engine/onnx/h-net-session.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('calls', 30);
const THREADS = arg('threads', Math.min(2, availableParallelism()));
const ROWS = 16;
const hs = [128, 16, 16] as const;
const size = hs[0] * hs[1] * hs[2];
const modelDir = fileURLToPath(new URL('../models/toyfaces-32', import.meta.url));

const normal = (n: number, seed: number, scale: number) => new GaussianRng(seed).fillNormal(new Float32Array(n)).map((v) => v * scale);
const shipped = loadDirection(join(modelDir, 'directions'), 'eyes-closed', hs).hNet!;
const wide: HNet = { hidden: 64, embed: shipped.embed, w1: normal(64 * hs[0], 1, 0.09), b1: normal(64, 2, 0.3), wt: normal(64 * shipped.embed, 3, 0.3), w2: normal(hs[0] * 64, 4, 0.12) };
const conv: HNet = { ...wide, kernel: 3, w1: normal(64 * hs[0] * 9, 5, 0.03) };

async function median(f: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < 3; i++) await f();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await f();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

console.log(`h-net, one tick of ${ROWS} rows, C ${hs[0]} P ${hs[1] * hs[2]}; onnxruntime ${THREADS} intra-op thread(s); load average ${loadavg()[0]!.toFixed(1)}`);
for (const [name, net] of [['eyes-closed (D 32)', shipped], ['random (D 64)', wide], ['random 3x3 (D 64)', conv]] as const) {
  const batch: HNetRows = { h: normal(ROWS * size, 9, 1.5), rows: Array.from({ length: ROWS }, (_, r) => ({ row: r, t: 100 + 50 * r, terms: [{ net, weight: 0.8 }] })) };
  const deltaH = new Float32Array(ROWS * size);
  const session = await HNetSession.open(net, hs[0], { intraOpThreads: THREADS });
  const js = await median(() => addHNetRows(batch, deltaH, hs));
  const ort = await median(() => addHNetRowsOrt(batch, deltaH, hs, async () => session));
  await session.release();
  console.log(`${name.padEnd(20)} js ${js.toFixed(1)} ms  onnxruntime ${ort.toFixed(1)} ms  ratio ${(js / ort).toFixed(1)}x`);
}
