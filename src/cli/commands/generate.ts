/**
 * `asyrp generate --model <id> [--n 100] [--steps 40] [--seed 0] [--out grid.png] [--batch 16] [--json]`:
 * samples from noise with plain DDIM, the share the model's attribute reader reads as faces, and a grid
 * of the samples (src/engine/eval/generate-samples.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { GENERATE } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { reportEngineError } from '../report-error.js';
import { AttributeReader } from '../../engine/onnx/attribute-reader.js';
import { FACE_THRESHOLD, generateFromNoise, readFaces, type FaceReadout } from '../../engine/eval/generate-samples.js';
import { tileGrid, type GridLayout } from '../../engine/image/grid.js';
import { encodePng } from '../../engine/image/image-io.js';
import { tensorToRgb } from '../../engine/image/pixels.js';

/** GaussianRng takes a 32-bit seed; sample k uses seed + k, so the whole range must fit. */
const MAX_SEED = 2 ** 32 - 1;

function wholeNumber(flag: string, value: string | boolean | undefined, fallback: number, min: number, max: number): number {
  const v = value === undefined ? fallback : Number(value);
  if (typeof value === 'boolean' || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}; got "${String(value)}"`);
  return v;
}

/** Tiles of at least 64 px, so a 32×32 model's pixels stay visible on a model card; 10 samples per row. */
function layoutFor(resolution: number): GridLayout {
  return { perRow: 10, scale: Math.max(1, Math.ceil(64 / resolution)), gap: 2 };
}

export async function generateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(argv, GENERATE.flags);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const n = wholeNumber('n', flags.n, 100, 1, 10_000);
  const steps = wholeNumber('steps', flags.steps, 40, 2, 1000);
  const batch = wholeNumber('batch', flags.batch, 16, 1, 256);
  const seed = wholeNumber('seed', flags.seed, 0, 0, MAX_SEED - (n - 1));
  const outArg = flags.out as string | undefined;
  if (outArg !== undefined && !/\.png$/i.test(outArg)) throw new UsageError(`--out writes a PNG grid; give a path ending in .png (got "${outArg}")`);
  const outPath = outArg === undefined ? undefined : resolve(ctx.cwd, outArg);
  try {
    const model = await openModel(ctx, flags.model as string | undefined);
    try {
      const { id, resolution: R, schedule } = model.manifest;
      if (steps > schedule.trainSteps) throw new UsageError(`--steps must be at most ${schedule.trainSteps} (the model's training steps)`);
      const reader = model.manifest.attributes ? await AttributeReader.load(join(model.pkg.dir, model.manifest.attributes), R, model.inference) : null;
      if (!reader) ctx.err.write(`asyrp generate: ${id} ships no attribute reader ("attributes" in model.json); generating without a face rate\n`);
      // Wall time covers generation and reading, the part the check is about; not model loading or PNG writing.
      const started = performance.now();
      let faces: FaceReadout | null = null;
      let samples: Float32Array[];
      try {
        samples = await generateFromNoise(model, { n, steps, seed, batch, onProgress: (done, total) => ctx.err.isTTY && ctx.err.write(`\rgenerating ${done}/${total}`.padEnd(30)) });
        if (ctx.err.isTTY) ctx.err.write('\n');
        if (reader) faces = await readFaces(reader, samples, batch);
      } finally {
        await reader?.release();
      }
      const wallSeconds = (performance.now() - started) / 1000;
      if (outPath) {
        await mkdir(dirname(outPath), { recursive: true });
        await writeFile(outPath, await encodePng(tileGrid(samples.map((x) => tensorToRgb(x, R, R)), layoutFor(R))));
      }
      const result = { model: id, n, steps, seed, faceRate: faces?.faceRate ?? null, meanFaceScore: faces?.meanFaceScore ?? null, wallSeconds: Number(wallSeconds.toFixed(2)), grid: outPath ?? null };
      if (flags.json) ctx.out.write(JSON.stringify(result, null, 2) + '\n');
      else ctx.out.write(renderSummary(result, faces));
      return 0;
    } finally {
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'generate', e);
  }
}

function renderSummary(r: { model: string; n: number; steps: number; seed: number; wallSeconds: number; grid: string | null }, faces: FaceReadout | null): string {
  const lines = [`${r.model}: ${r.n} samples from noise, ${r.steps} DDIM steps (η = 0), seeds ${r.seed}..${r.seed + r.n - 1}`];
  if (faces) {
    const count = faces.faceScores.filter((s) => s > FACE_THRESHOLD).length;
    lines.push(`read as faces: ${count} / ${r.n} (${(faces.faceRate * 100).toFixed(0)} %), face probability > ${FACE_THRESHOLD}; mean face score ${faces.meanFaceScore.toFixed(3)}`);
  } else {
    lines.push('read as faces: not measured (no attribute reader)');
  }
  lines.push(`wall time ${r.wallSeconds.toFixed(1)} s (generation and reading)`);
  if (r.grid) lines.push(`grid: ${r.grid}`);
  return lines.join('\n') + '\n';
}
