/**
 * The GPU check of issue #35 (run by bench/gpu-check.sh on a machine with an NVIDIA GPU and Vulkan):
 * for each model package given, on cpu and on webgpu, the median time of one UNet call at B = 1 and
 * B = 8 (half the rows edited), one whole edit of a synthetic image, and webgpu's largest difference from
 * cpu over eps, eps_edit and h (relative to max(1, max|cpu|); the stated bound is 1e-3). Prints a Markdown
 * table and writes the numbers as JSON.
 *
 *   node --import tsx bench/gpu-check.ts [--steps 20] [--repeat 3] [--json out.json] <model dir>...
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { GaussianRng } from '../src/engine/diffusion/gaussian-rng.js';
import { LoadedModel } from '../src/engine/loaded-model.js';
import { readModelPackage } from '../src/engine/model/model-registry.js';
import type { ExecutionProvider } from '../src/engine/onnx/execution-provider.js';
import { planEdit } from '../src/engine/pipeline/edit-plan.js';
import { runEdit } from '../src/engine/pipeline/run-edit.js';
import { syntheticImage } from '../src/engine/pipeline/smoke-edit.js';
import { parseRecipe } from '../src/engine/recipe/parse-recipe.js';
import type { UNetOutputs } from '../src/engine/diffusion/batch-runner.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1]!;
  argv.splice(i, 2);
  return v;
};
const STEPS = Number(opt('steps', '20'));
const REPEAT = Number(opt('repeat', '3'));
const JSON_OUT = opt('json', '');
const dirs = argv;
if (!dirs.length) {
  process.stderr.write('usage: node --import tsx bench/gpu-check.ts [--steps N] [--repeat N] [--json out.json] <model dir>...\n');
  process.exit(2);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

interface Row {
  model: string;
  resolution: number;
  provider: ExecutionProvider;
  ranOn: string;
  fallback?: string;
  unetB1Ms?: number;
  unetB8Ms?: number;
  editSeconds?: number;
  editRecipe?: string;
  parityVsCpu?: number;
}

async function callMs(model: LoadedModel, B: number): Promise<{ ms: number; out: UNetOutputs }> {
  const u = model.unet;
  const E = Math.max(1, B / 2);
  const x = new GaussianRng(1).fillNormal(new Float32Array(B * u.sampleSize));
  const t = Float32Array.from({ length: B }, (_, i) => 999 - ((i * 97) % 1000));
  const dh = new GaussianRng(2).fillNormal(new Float32Array(E * u.hSize));
  let out = await u.run(x, t, dh, B, E); // warm-up (kernel compilation on webgpu)
  const times: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const s = performance.now();
    out = await u.run(x, t, dh, B, E);
    times.push(performance.now() - s);
  }
  return { ms: median(times), out };
}

function relDiff(a: UNetOutputs, b: UNetOutputs): number {
  let worst = 0;
  for (const k of ['eps', 'epsEdit', 'h'] as const) {
    let scale = 1;
    let d = 0;
    for (let i = 0; i < a[k].length; i++) {
      scale = Math.max(scale, Math.abs(a[k][i]!));
      d = Math.max(d, Math.abs(a[k][i]! - b[k][i]!));
    }
    worst = Math.max(worst, d / scale);
  }
  return worst;
}

const rows: Row[] = [];
for (const dir of dirs) {
  const pkg = readModelPackage(dir);
  let cpuB1: UNetOutputs | undefined;
  for (const provider of ['cpu', 'webgpu'] as const) {
    const model = await LoadedModel.open(pkg, { provider });
    const row: Row = { model: pkg.manifest.id, resolution: pkg.manifest.resolution, provider, ranOn: model.unet.provider };
    try {
      if (model.unet.fallback) {
        row.fallback = model.unet.fallback;
        rows.push(row);
        process.stderr.write(`${pkg.manifest.id}: ${model.unet.fallback}\n`);
        continue;
      }
      const b1 = await callMs(model, 1);
      row.unetB1Ms = b1.ms;
      if (provider === 'cpu') cpuB1 = b1.out;
      else if (cpuB1) row.parityVsCpu = relDiff(cpuB1, b1.out);
      row.unetB8Ms = (await callMs(model, 8)).ms;
      const direction = model.directionNames()[0];
      const recipe = `${direction ?? ''} steps:${STEPS}`.trim();
      const plan = planEdit(model.manifest, parseRecipe(recipe), (n) => model.direction(n));
      const s = performance.now();
      await runEdit(model.unet, model.alphasBar, syntheticImage(pkg.manifest.resolution), plan);
      row.editSeconds = (performance.now() - s) / 1000;
      row.editRecipe = recipe;
      rows.push(row);
      process.stderr.write(`${pkg.manifest.id} on ${provider}: done\n`);
    } finally {
      await model.close();
    }
  }
}

const f = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
const lines = [
  `| model | provider | UNet B=1 (ms) | UNet B=8 (ms) | one edit (s) | edit recipe | webgpu vs cpu |`,
  `|---|---|---:|---:|---:|---|---:|`,
  ...rows.map((r) =>
    r.fallback
      ? `| ${r.model} (${r.resolution}²) | ${r.provider} → ${r.ranOn} | — | — | — | ${r.fallback} | — |`
      : `| ${r.model} (${r.resolution}²) | ${r.provider} | ${f(r.unetB1Ms)} | ${f(r.unetB8Ms)} | ${f(r.editSeconds, 2)} | ${r.editRecipe} | ${r.parityVsCpu === undefined ? '—' : r.parityVsCpu.toExponential(1)} |`,
  ),
];
process.stdout.write(lines.join('\n') + '\n');
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ steps: STEPS, repeat: REPEAT, rows }, null, 2) + '\n');
