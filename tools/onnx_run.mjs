#!/usr/bin/env node
// Generic ONNX runner for the Python-side tools and tests (there is no Python
// onnxruntime on the dev machines, so Python hands tensors to this script).
//
// Usage: node tools/onnx_run.mjs <model.onnx> <inputs.json> <outputs.json>
//    or: node tools/onnx_run.mjs <dir>   (binary mode, for large tensors)
//
// inputs.json is either one feed or an array of feeds (several runs of the same
// session, which saves Node/ORT start-up time). A feed maps input names to
//   {"type": "float32", "dims": [2, 3, 16, 16], "data": [...flat, row-major...]}
// type is one of float32 (default), float64, int32, int64, uint8, int8, bool.
// Empty tensors (a 0 in dims, data []) are allowed.
// outputs.json mirrors the input: one object (or an array of them) mapping each
// output name to {"type", "dims", "data"}; float32 values are written as the
// exact double value of the float32, so they round-trip.
//
// Binary mode (used by tools/asyrp_tools/ortcheck.py; JSON text is slow for
// full-size images): <dir>/request.json = {"model": path, "inputs": {name:
// {"dims": [...], "file": "x.bin"}}} with raw little-endian float32 files in
// <dir>; each output is written to <dir>/out_<name>.bin and
// <dir>/response.json maps output names to dims.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

function toTensor(name, spec) {
  const type = spec.type ?? 'float32';
  const Ctor = ARRAYS[type];
  if (!Ctor) throw new Error(`input ${name}: unsupported type ${type}`);
  const dims = spec.dims;
  const size = dims.reduce((a, b) => a * b, 1);
  const raw = spec.data ?? [];
  if (raw.length !== size) {
    throw new Error(`input ${name}: ${raw.length} values for dims [${dims}] (expected ${size})`);
  }
  const data = type === 'int64' ? Ctor.from(raw, (v) => BigInt(v)) : Ctor.from(raw);
  return new ort.Tensor(type, data, dims);
}

function fromTensor(tensor) {
  const data = Array.from(tensor.data, (v) => (typeof v === 'bigint' ? Number(v) : v));
  return { type: tensor.type, dims: Array.from(tensor.dims), data };
}

async function runBinaryDir(dir) {
  const req = JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8'));
  const session = await ort.InferenceSession.create(req.model, { executionProviders: ['cpu'] });
  const feeds = {};
  for (const [name, spec] of Object.entries(req.inputs)) {
    const buf = readFileSync(join(dir, spec.file));
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    feeds[name] = new ort.Tensor('float32', data, spec.dims);
  }
  const out = await session.run(feeds);
  const response = {};
  for (const name of session.outputNames) {
    const t = out[name];
    writeFileSync(join(dir, `out_${name}.bin`), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    response[name] = Array.from(t.dims);
  }
  writeFileSync(join(dir, 'response.json'), JSON.stringify(response));
}

async function main() {
  const [modelPath, inPath, outPath] = process.argv.slice(2);
  if (modelPath && !inPath && statSync(modelPath, { throwIfNoEntry: false })?.isDirectory()) {
    await runBinaryDir(modelPath);
    return;
  }
  if (!modelPath || !inPath || !outPath) {
    console.error('usage: node tools/onnx_run.mjs <model.onnx> <inputs.json> <outputs.json>');
    process.exit(2);
  }
  const parsed = JSON.parse(readFileSync(inPath, 'utf8'));
  const feeds = Array.isArray(parsed) ? parsed : [parsed];
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const results = [];
  for (const feed of feeds) {
    const inputs = {};
    for (const [name, spec] of Object.entries(feed)) inputs[name] = toTensor(name, spec);
    const out = await session.run(inputs);
    const res = {};
    for (const name of session.outputNames) res[name] = fromTensor(out[name]);
    results.push(res);
  }
  writeFileSync(outPath, JSON.stringify(Array.isArray(parsed) ? results : results[0]));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
