// Runs an ONNX graph with onnxruntime-node for the Python parity checks
// (there is no Python onnxruntime on this machine).
//   node tools/onnx_run.mjs <dir>
// <dir>/request.json: {"model": path, "inputs": {name: {"dims": [...], "file": "x.bin"}}}
// Inputs are raw little-endian float32 files in <dir>. Each output is written
// as <dir>/out_<name>.bin, and <dir>/response.json lists {name: dims}.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const dir = process.argv[2];
const req = JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8'));
const session = await ort.InferenceSession.create(req.model, { executionProviders: ['cpu'] });
const feeds = {};
for (const [name, spec] of Object.entries(req.inputs)) {
  const buf = readFileSync(join(dir, spec.file));
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  feeds[name] = new ort.Tensor('float32', data, spec.dims);
}
const results = await session.run(feeds);
const response = {};
for (const [name, tensor] of Object.entries(results)) {
  writeFileSync(join(dir, `out_${name}.bin`), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  response[name] = tensor.dims;
}
writeFileSync(join(dir, 'response.json'), JSON.stringify(response));
