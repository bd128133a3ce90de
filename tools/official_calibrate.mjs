#!/usr/bin/env node
// Calibration trajectories for tools/convert_direction.py (issue #9): runs an
// official backbone's unet.onnx and a DeltaBlock graph (h, temb -> delta_h)
// through onnxruntime-node and returns the per-timestep mean of
// f_t(h_t, temb_t) over all trajectories (the paper's Δh_t^mean, docs/method.md §2.3).
//
// Usage: node tools/official_calibrate.mjs <dir>
// <dir>/request.json:
//   {"unet": path, "delta": path, "x": {"dims": [N,3,R,R], "file": "x.bin"},
//    "mode": "noise" | "invert", "seq": [ascending timesteps], "alphaBar": [1000 float64],
//    "tEdit": int, "temb": {"dims": [K, D], "file": "temb.bin"}, "batch": int}
//   x.bin: float32 x_T (mode noise) or x_0 images in [-1,1] (mode invert);
//   temb.bin: float32 row k = time embedding at seq[k].
// Writes <dir>/mean.bin (float32 [K,C,H,W]) and <dir>/response.json.
//
// Each trajectory follows the official editing run: generation from t = 999
// down with DDIM eta = 0; at t >= tEdit the step is Asyrp's (Eq. 9: P_t from
// the edited epsilon, direction term from the unedited one) with Δh = f_t(h_t);
// below tEdit plain DDIM.  f_t is evaluated on h_t at every timestep.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node tools/official_calibrate.mjs <dir>\n');
  process.exit(2);
}
const req = JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8'));
const f32 = (file) => {
  const b = readFileSync(join(dir, file));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const opts = { executionProviders: req.executionProviders ?? ['cpu'] };
const unet = await ort.InferenceSession.create(req.unet, opts);
const delta = await ort.InferenceSession.create(req.delta, opts);

const [N, , R] = req.x.dims;
const X = f32(req.x.file);
const [K, D] = req.temb.dims;
const TEMB = f32(req.temb.file);
const seq = req.seq;
const ab = req.alphaBar;
const px = 3 * R * R;

let hSize = 0;
let sum = null; // Float64Array [K, hSize]
let count = 0;

function step(x, epsDir, epsX0, t, tNext) {
  // x' = sqrt(a')·P_t(epsX0) + sqrt(1 - a')·epsDir   (eta = 0; a'(-1) = 1)
  const a = ab[t];
  const an = tNext < 0 ? 1 : ab[tNext];
  const out = new Float32Array(x.length);
  const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a), san = Math.sqrt(an), s1an = Math.sqrt(1 - an);
  for (let i = 0; i < x.length; i++) {
    const x0 = (x[i] - s1a * epsX0[i]) / sa;
    out[i] = san * x0 + s1an * epsDir[i];
  }
  return out;
}

async function runUnet(x, b, t, dh, e) {
  const feeds = {
    x: new ort.Tensor('float32', x, [b, 3, R, R]),
    t: new ort.Tensor('float32', new Float32Array(b).fill(t), [b]),
    delta_h: new ort.Tensor('float32', dh ?? new Float32Array(0), [e, ...(req.hspace)]),
  };
  return unet.run(feeds);
}

for (let start = 0; start < N; start += req.batch) {
  const b = Math.min(req.batch, N - start);
  let x = X.slice(start * px, (start + b) * px);
  if (req.mode === 'invert') {
    for (let k = 1; k < K; k++) {
      const out = await runUnet(x, b, seq[k - 1], null, 0);
      x = step(x, out.eps.data, out.eps.data, seq[k - 1], seq[k]);
    }
  }
  for (let k = K - 1; k >= 0; k--) {
    const t = seq[k];
    const out = await runUnet(x, b, t, null, 0);
    const h = out.h.data;
    hSize = h.length / b;
    if (!sum) sum = new Float64Array(K * hSize);
    const temb = new Float32Array(b * D);
    for (let i = 0; i < b; i++) temb.set(TEMB.subarray(k * D, (k + 1) * D), i * D);
    const dh = (await delta.run({
      h: new ort.Tensor('float32', h, out.h.dims),
      temb: new ort.Tensor('float32', temb, [b, D]),
    })).delta_h.data;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < hSize; j++) sum[k * hSize + j] += dh[i * hSize + j];
    }
    let epsX0 = out.eps.data;
    if (t >= req.tEdit) epsX0 = (await runUnet(x, b, t, dh, b)).eps_edit.data;
    x = step(x, out.eps.data, epsX0, t, k > 0 ? seq[k - 1] : -1);
  }
  count += b;
  process.stderr.write(`calibration: ${count}/${N} trajectories\n`);
}

const mean = new Float32Array(K * hSize);
for (let i = 0; i < mean.length; i++) mean[i] = sum[i] / count;
writeFileSync(join(dir, 'mean.bin'), Buffer.from(mean.buffer));
writeFileSync(join(dir, 'response.json'), JSON.stringify({ dims: [K, ...req.hspace], count }));
