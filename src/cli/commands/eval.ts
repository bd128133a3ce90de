/**
 * `asyrp eval --model <id> --direction <name|recipe> [--n 100] [--skip 0] [--faces <folder>]
 *   [--target <direction>=<attr:value>] [--strengths 0.25,0.5,1,1.5] [--reader <file.onnx>] [--by <label,...>] [--json]`: edits
 * held-out faces (the package's eval/, or --faces: another labelled set in that layout) and judges them
 * with the model's attribute reader, or with another reader of the same outputs (--reader: a judge
 * trained independently of the reader the directions were optimized against), in
 * src/engine/eval/evaluate.ts; definitions in docs/quality.md. --by breaks the rows down by the faces'
 * render labels in labels.jsonl (e.g. --by hair_colour,skin_tone), so an edit that fails on one kind of face shows.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { EVAL } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { reportEngineError } from '../report-error.js';
import { EngineError } from '../../engine/errors.js';
import { AttributeReader } from '../../engine/onnx/attribute-reader.js';
import { evaluateRecipe, parseTarget, type EvalRow } from '../../engine/eval/evaluate.js';
import { readAttributeSchema, readEvalSet } from '../../engine/eval/eval-set.js';
import { prepareInput } from '../../engine/pipeline/edit-image.js';
import { formatRecipe, parseRecipe } from '../../engine/recipe/parse-recipe.js';

const pct = (v: number) => `${(v * 100).toFixed(0)} %`;

export async function evalCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, EVAL.flags);
  if (!flags.direction) throw new UsageError('--direction is required');
  const n = Number(flags.n ?? 100);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError('--n must be a whole number from 1 to 10000');
  // --skip: start after the first K faces, e.g. to check on faces 100-199 a choice made on faces 0-99.
  const skip = Number(flags.skip ?? 0);
  if (!Number.isInteger(skip) || skip < 0 || skip > 100_000) throw new UsageError('--skip must be a whole number from 0 to 100000');
  const strengths = String(flags.strengths ?? '0.25,0.5,1,1.5').split(',').map(Number);
  if (!strengths.every((s) => Number.isFinite(s) && Math.abs(s) <= 3)) throw new UsageError('--strengths takes numbers between -3 and 3, comma-separated');
  const batch = Number(flags.batch ?? 16);
  const by = flags.by === undefined ? undefined : String(flags.by).split(',').map((s) => s.trim());
  if (by && (by.some((s) => !/^[a-z_][a-z0-9_]*$/i.test(s)) || new Set(by).size !== by.length)) throw new UsageError('--by takes label names from labels.jsonl, comma-separated, e.g. --by hair_colour,skin_tone');
  try {
    const model = await openModel(ctx, flags.model as string | undefined);
    try {
      if (!model.manifest.attributes && flags.reader === undefined) throw new EngineError('MODEL_INVALID', `${model.manifest.id} ships no attribute reader ("attributes" in model.json)`);
      const readerPath = flags.reader !== undefined ? resolve(ctx.cwd, flags.reader as string) : join(model.pkg.dir, model.manifest.attributes!);
      const reader = await AttributeReader.load(readerPath, model.manifest.resolution);
      const schema = readAttributeSchema(model.pkg);
      const missing = ['face', ...schema.scalars, ...schema.binary, ...Object.keys(schema.classes)].filter((o) => !reader.outputs.includes(o));
      if (missing.length > 0) {
        await reader.release();
        throw new EngineError('MODEL_MISMATCH', `${readerPath} cannot judge ${model.manifest.id}: it has no output ${missing.join(', ')} (attributes.json lists them)`);
      }
      const recipe = parseRecipe(flags.direction as string, { directions: model.directionNames() });
      if (!recipe.terms.length) throw new UsageError('--direction needs at least one direction');
      const overrides = new Map(String(flags.target ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      const specFor = (name: string) => {
        const spec = overrides.get(name) ?? model.direction(name).meta.raw.evalTarget;
        if (!spec) throw new EngineError('DIRECTION_INVALID', `direction "${name}" has no evalTarget in its metadata; pass --target ${name}=<attribute:value>`);
        return spec;
      };
      const targetsFor = (scale: number) => recipe.terms.map((t) => parseTarget(specFor(t.name), schema, (t.strength ?? 1) * scale));
      targetsFor(1); // fail early on a bad target
      const facesDir = flags.faces !== undefined ? resolve(ctx.cwd, flags.faces as string) : undefined;
      const faces = [];
      const set = readEvalSet(model.pkg, n, skip, facesDir);
      const groups = by ? set.map((f) => groupOf(f.labels, by, f.file)) : undefined;
      for (const f of set) {
        try {
          faces.push((await prepareInput(readFileSync(f.file), model.manifest, ctx.config.limits)).tensor);
        } catch (e) {
          // Name the face: in a folder of hundreds, "the image is corrupt" alone does not say which one.
          throw e instanceof EngineError ? new EngineError(e.code, `${f.file}: ${e.message}`, { ...e.details }, { cause: e }) : e;
        }
      }
      const rows = await evaluateRecipe(model, reader, schema, faces, recipe, targetsFor, { strengths, batch, groups, onProgress: (w) => ctx.err.isTTY && ctx.err.write(`\r${w}`.padEnd(40)) });
      if (ctx.err.isTTY) ctx.err.write('\n');
      await reader.release();
      const result = { model: model.manifest.id, recipe: formatRecipe(recipe), n, skip, faces: facesDir ?? 'package', reader: flags.reader !== undefined ? readerPath : 'package', targets: targetsFor(1), ...(by ? { by } : {}), rows };
      if (flags.json) ctx.out.write(JSON.stringify(result, null, 2) + '\n');
      else ctx.out.write(renderTable(result.recipe, model.manifest.id, n, skip, rows, flags.reader as string | undefined, facesDir, by));
      return 0;
    } finally {
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'eval', e);
  }
}

/** The face's group: its values of the --by labels joined with "/", e.g. "blonde/medium". */
function groupOf(labels: Readonly<Record<string, unknown>>, by: readonly string[], file: string): string {
  return by
    .map((name) => {
      const v = labels[name];
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new UsageError(`--by ${name}: the labels of ${file} have no "${name}" (a string, number or boolean)`);
      return String(v);
    })
    .join('/');
}

function renderTable(recipe: string, model: string, n: number, skip: number, rows: EvalRow[], judge?: string, facesDir?: string, by?: readonly string[]): string {
  const lines = [`${model}: "${recipe}" on ${n} ${facesDir !== undefined ? `faces of ${facesDir}` : 'held-out faces'}${skip > 0 ? ` (${skip}-${skip + n - 1})` : ''}${judge !== undefined ? `, judged by ${judge}` : ''}`, '', '| strength | boosting | eligible | success | preservation | target mean | pixel change | face score | roughness |', '|---:|---|---:|---:|---:|---|---:|---:|---:|'];
  for (const r of rows) {
    const target = Object.entries(r.meanTarget).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    lines.push(`| ${r.strength} | ${r.boosting ? 'on' : 'off'} | ${r.eligible} | ${pct(r.success)} | ${pct(r.preservation)} | ${target} | ${r.pixelChange.toFixed(1)} | ${r.faceScore.toFixed(3)} | ${r.roughness.toFixed(2)} |`);
  }
  const from = rows.filter((r) => r.successFrom);
  if (from.length > 0) {
    lines.push('', 'success by the class each face started in (reached / eligible):', '');
    for (const r of from) {
      const parts = Object.entries(r.successFrom!).sort(([a], [b]) => a.localeCompare(b)).map(([k, [ok, all]]) => `${k} ${ok}/${all}`);
      lines.push(`- strength ${r.strength}, boosting ${r.boosting ? 'on' : 'off'}: ${parts.join(', ')}`);
    }
  }
  const grouped = rows.filter((r) => r.byGroup);
  if (grouped.length > 0) {
    lines.push('', `by ${(by ?? []).join('/')} (reached / kept / eligible):`, '');
    for (const r of grouped) {
      const parts = Object.entries(r.byGroup!).sort(([a], [b]) => a.localeCompare(b)).map(([k, g]) => `${k} ${g.success}/${g.preserved}/${g.eligible}`);
      lines.push(`- strength ${r.strength}, boosting ${r.boosting ? 'on' : 'off'}: ${parts.join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}
