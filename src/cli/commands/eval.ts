/**
 * `asyrp eval --model <id> --direction <name|recipe> [--n 100] [--skip 0] [--faces <folder>]
 *   [--target <direction>=<attr:value>] [--strengths 0.25,0.5,1,1.5] [--reader <file.onnx>] [--by <label,...>]
 *   [--save <folder>] [--json]`: edits held-out faces (the model's eval set, rendered on demand into the data
 * folder by src/cli/eval-faces.ts, or --faces: another labelled set in that layout) and judges them two ways (src/engine/eval/evaluate.ts; definitions in docs/quality.md):
 * against the faces' rendered twins (twins/<key>/ and regions/<key>/ beside images/, written by
 * tools/asyrp_tools/renderer.py --twins) where the folder has them, by pixels with no network; and with the
 * model's attribute reader (or --reader), when there is one, as a second column. Every row is broken down by
 * the faces' render labels with the worst group beside the mean; --by also counts the reader's verdicts by
 * chosen labels; --save writes the judged edits as PNGs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { encodePng } from '../../engine/image/image-io.js';
import { tensorToRgb } from '../../engine/image/pixels.js';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { EVAL } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { reportEngineError } from '../report-error.js';
import { modelEvalFaces } from '../eval-faces.js';
import { EngineError } from '../../engine/errors.js';
import { AttributeReader } from '../../engine/onnx/attribute-reader.js';
import { evaluateRecipe, parseTarget, type EvalRow, type EvalTarget, type ReaderJudge } from '../../engine/eval/evaluate.js';
import { readAttributeSchema, readEvalSet } from '../../engine/eval/eval-set.js';
import type { WorstGroup } from '../../engine/eval/group-stats.js';
import { twinKey, type Twin } from '../../engine/eval/twin-judge.js';
import { hasTwins, readTwins } from '../../engine/eval/twin-set.js';
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
    let reader: AttributeReader | undefined;
    try {
      const facesDir = flags.faces !== undefined ? resolve(ctx.cwd, flags.faces as string) : undefined;
      const evalSet = model.manifest.evalSet;
      if (facesDir === undefined && evalSet === undefined) throw new UsageError(`${model.manifest.id} names no eval set to render ("evalSet" in model.json): give --faces <folder> of labelled faces`);
      const hasReader = model.manifest.attributes !== undefined || flags.reader !== undefined;
      if (!hasReader && facesDir !== undefined && !existsSync(join(facesDir, 'twins'))) throw new EngineError('MODEL_INVALID', `${model.manifest.id} ships no attribute reader ("attributes" in model.json) and ${facesDir} has no twins (tools/asyrp_tools/renderer.py --twins)`);
      const dir =
        facesDir ??
        (await modelEvalFaces(
          { id: model.manifest.id, resolution: model.manifest.resolution, ...evalSet! },
          { dataDir: ctx.config.dataDir, python: ctx.config.python, toolsDir: join(ctx.config.root, 'tools'), onRender: (text) => ctx.err.write(`asyrp eval: ${text}\n`) },
        ));
      const set = readEvalSet(dir, n, skip);
      const recipe = parseRecipe(flags.direction as string, { directions: model.directionNames() });
      if (!recipe.terms.length) throw new UsageError('--direction needs at least one direction');
      const schema = hasReader || existsSync(join(model.pkg.dir, 'attributes.json')) ? readAttributeSchema(model.pkg) : undefined;
      const overrides = new Map(String(flags.target ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      const specFor = (name: string) => {
        const spec = overrides.get(name) ?? model.direction(name).meta.raw.evalTarget;
        if (!spec) throw new EngineError('DIRECTION_INVALID', `direction "${name}" has no evalTarget in its metadata; pass --target ${name}=<attribute:value>`);
        return spec;
      };
      const targetsFor = (scale: number) => recipe.terms.map((t) => parseTarget(specFor(t.name), schema, (t.strength ?? 1) * scale));
      // Fail early on a bad target, and on a package that can be judged neither way.
      const anyTwins = [...new Set([...strengths, 1].map((s) => twinKey(targetsFor(s))))].some((k) => hasTwins(dir, k));
      if (!hasReader && !anyTwins) throw new EngineError('MODEL_INVALID', `${model.manifest.id} ships no attribute reader ("attributes" in model.json) and ${dir} has no twins for this edit (${[...new Set([...strengths, 1].map((s) => twinKey(targetsFor(s))))].join(', ')})`);
      let judge: ReaderJudge | undefined;
      let readerPath: string | undefined;
      if (hasReader) {
        readerPath = flags.reader !== undefined ? resolve(ctx.cwd, flags.reader as string) : join(model.pkg.dir, model.manifest.attributes!);
        reader = await AttributeReader.load(readerPath, model.manifest.resolution, model.inference);
        const missing = ['face', ...schema!.scalars, ...schema!.binary, ...Object.keys(schema!.classes)].filter((o) => !reader!.outputs.includes(o));
        if (missing.length > 0) throw new EngineError('MODEL_MISMATCH', `${readerPath} cannot judge ${model.manifest.id}: it has no output ${missing.join(', ')} (attributes.json lists them)`);
        judge = { reader, schema: schema! };
      }
      const decode = async (bytes: Uint8Array, file: string) => {
        try {
          return (await prepareInput(bytes, model.manifest, ctx.config.limits)).tensor;
        } catch (e) {
          // Name the file: in a folder of hundreds, "the image is corrupt" alone does not say which one.
          throw e instanceof EngineError ? new EngineError(e.code, `${file}: ${e.message}`, { ...e.details }, { cause: e }) : e;
        }
      };
      const save = flags.save !== undefined ? resolve(ctx.cwd, flags.save as string) : undefined;
      const groups = by ? set.map((f) => groupOf(f.labels, by, f.file)) : undefined;
      const faces = [];
      for (const f of set) faces.push(await decode(readFileSync(f.file), f.file));
      const twinCache = new Map<string, Promise<(Twin | undefined)[]>>();
      const twinsFor = async (targets: readonly EvalTarget[]) => {
        const key = twinKey(targets);
        if (!hasTwins(dir, key)) return undefined;
        if (!twinCache.has(key)) twinCache.set(key, readTwins(dir, key, set.map((f) => f.file), decode));
        return twinCache.get(key);
      };
      const rows = await evaluateRecipe(model, judge, faces, recipe, targetsFor, {
        strengths,
        batch,
        groups,
        labels: set.map((f) => f.labels),
        twinsFor,
        ...(save !== undefined ? { onOutputs: (s: number, boost: boolean, outs: readonly Float32Array[]) => saveOutputs(join(save, `strength-${s}${boost ? '' : '-plain'}`), set.map((f) => basename(f.file)), outs, model.manifest.resolution) } : {}),
        onProgress: (w) => ctx.err.isTTY && ctx.err.write(`\r${w}`.padEnd(40)),
      });
      if (ctx.err.isTTY) ctx.err.write('\n');
      const result = {
        model: model.manifest.id,
        recipe: formatRecipe(recipe),
        n,
        skip,
        faces: dir,
        ...(facesDir === undefined ? { evalSet } : {}),
        reader: readerPath === undefined ? 'none' : flags.reader !== undefined ? readerPath : 'package',
        targets: targetsFor(1),
        ...(by ? { by } : {}),
        rows,
      };
      if (flags.json) ctx.out.write(JSON.stringify(result, null, 2) + '\n');
      else ctx.out.write(renderTable(result.recipe, model.manifest.id, n, skip, rows, flags.reader as string | undefined, facesDir, by));
      return 0;
    } finally {
      await reader?.release();
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'eval', e);
  }
}

/** Writes each output as a PNG named like its input face (the judged edits, for pictures of borderline cases). */
async function saveOutputs(folder: string, names: readonly string[], outs: readonly Float32Array[], R: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < outs.length; i++) await writeFile(join(folder, names[i]!), await encodePng(tensorToRgb(outs[i]!, R, R)));
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

const opt = (v: number | undefined, f: (v: number) => string) => (v === undefined ? '–' : f(v));
const worst = (w: WorstGroup | undefined) => (w ? `${w.facet}=${w.value}: ${pct(w.success)} / ${pct(w.preservation)} of ${w.eligible}` : '–');

function renderTable(recipe: string, model: string, n: number, skip: number, rows: EvalRow[], judge?: string, facesDir?: string, by?: readonly string[]): string {
  const lines = [
    `${model}: "${recipe}" on ${n} ${facesDir !== undefined ? `faces of ${facesDir}` : 'held-out faces'}${skip > 0 ? ` (${skip}-${skip + n - 1})` : ''}${judge !== undefined ? `, reader ${judge}` : ''}`,
    '',
    '| strength | boosting | twin: eligible | success | preservation | worst group (success / preservation) | reader: eligible | success | preservation | target mean | pixel change | face score | roughness |',
    '|---:|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const target = Object.entries(r.meanTarget ?? {}).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || '–';
    const t = r.twin;
    lines.push(
      `| ${r.strength} | ${r.boosting ? 'on' : 'off'} | ${t ? t.eligible : '–'} | ${t ? pct(t.success) : '–'} | ${t ? pct(t.preservation) : '–'} | ${worst(r.worstGroup)} | ${r.eligible ?? '–'} | ${opt(r.success, pct)} | ${opt(r.preservation, pct)} | ${target} | ${r.pixelChange.toFixed(1)} | ${opt(r.faceScore, (v) => v.toFixed(3))} | ${r.roughness.toFixed(2)} |`,
    );
  }
  const judged = rows[0]?.judge === 'twin' ? `the twin judge (twins/${rows.map((r) => r.twin?.key).filter(Boolean).join(', twins/')})` : 'the reader';
  lines.push('', `by render label, judged by ${judged} (reached / kept / eligible):`, '');
  for (const r of rows) {
    const parts = Object.entries(r.byFacet).map(([facet, values]) => `${facet} ${Object.entries(values).sort(([a], [b]) => a.localeCompare(b)).map(([v, g]) => `${v} ${g.success}/${g.preserved}/${g.eligible}`).join(', ')}`);
    lines.push(`- strength ${r.strength}, boosting ${r.boosting ? 'on' : 'off'}: ${parts.join('; ') || 'no labels'}${r.worstPreserved ? `; least kept ${r.worstPreserved.facet}=${r.worstPreserved.value} ${pct(r.worstPreserved.preservation)}` : ''}`);
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
