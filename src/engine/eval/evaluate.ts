/**
 * Measuring edits (docs/quality.md): invert held-out faces, edit and regenerate them as the engine does for a
 * user, and judge each output, per strength, two ways:
 *   the twin judge (twin-judge.ts), where the faces have rendered twins: success, preservation, mean progress
 *     toward the twin and mean change outside its region, over the faces that have a twin;
 *   the attribute reader, where the package has one:
 *     success      - share of eligible faces whose target attribute(s) moved the right way past a threshold;
 *     preservation - share whose other attributes stayed (binary: same side of 0.5; classes: same argmax;
 *                    a non-target smile within ±0.3);
 *     face score   - the reader's face probability.
 * Both with pixel change (mean |after − before| in 0..255 units) and roughness, and every row broken down by
 * render label with its worst group (group-stats.ts), by the twin judge when there are twins.
 */
import { EngineError } from '../errors.js';
import { runToCompletion } from '../diffusion/batch-runner.js';
import { timestepSequence } from '../diffusion/schedule.js';
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { GenerationTrajectory, InversionTrajectory } from '../diffusion/trajectory.js';
import type { LoadedModel } from '../loaded-model.js';
import type { AttributeReader, AttributeReading } from '../onnx/attribute-reader.js';
import { planEdit, type EditPlan } from '../pipeline/edit-plan.js';
import type { Recipe } from '../recipe/parse-recipe.js';
import { GroupStats, type ByFacet, type WorstGroup } from './group-stats.js';
import { judgeTwin, twinKey, type Twin } from './twin-judge.js';

/** What a direction is meant to change, from its metadata `evalTarget` ("smile:+", "glasses:1", "hair_colour:red"). */
export type EvalTarget =
  | { readonly kind: 'scalar'; readonly attribute: string; readonly sign: 1 | -1 }
  | { readonly kind: 'binary'; readonly attribute: string; readonly want: 0 | 1 }
  | { readonly kind: 'class'; readonly attribute: string; readonly index: number; readonly label: string };

export interface AttributeSchema {
  readonly scalars: readonly string[];
  readonly binary: readonly string[];
  readonly classes: Readonly<Record<string, readonly string[]>>;
  /**
   * Optional, per scalar: [low, high], what the reader reads on faces that have the attribute at its
   * extremes (toyfaces-32: a full frown −0.90, a full grin 0.885; `python3 -m asyrp_tools.reach`). A face
   * can only move by SCALAR_SUCCESS_DELTA if it starts that far inside the reach, so eligibility is
   * measured from it; without it the reach is [−1, 1].
   */
  readonly reach?: Readonly<Record<string, readonly [number, number]>>;
}

/** A continuous attribute counts as moved when it changes by at least this much (on −1..1). */
export const SCALAR_SUCCESS_DELTA = 0.3;
/** A non-target continuous attribute counts as preserved within this change. */
export const SCALAR_PRESERVE_DELTA = 0.3;

/**
 * A direction's evalTarget as a target. Without a schema (a package with no reader, judged by its twins only)
 * the value says the kind: "+"/"-" a scalar, "0"/"1" a binary attribute, anything else a class label.
 */
export function parseTarget(spec: string, schema: AttributeSchema | undefined, strength: number): EvalTarget {
  const [attribute, value] = spec.split(':') as [string, string | undefined];
  const flip = strength < 0;
  const scalar = schema ? schema.scalars.includes(attribute) : value === '+' || value === '-';
  const binary = schema ? schema.binary.includes(attribute) : value === '0' || value === '1';
  if (scalar) {
    const sign = value === '-' ? -1 : 1;
    return { kind: 'scalar', attribute, sign: (flip ? -sign : sign) as 1 | -1 };
  }
  if (binary) {
    const want = value === '0' ? 0 : 1;
    return { kind: 'binary', attribute, want: (flip ? 1 - want : want) as 0 | 1 };
  }
  const labels = schema ? schema.classes[attribute] : value ? [value] : undefined;
  if (labels && value && labels.includes(value)) {
    if (flip) throw new EngineError('RECIPE_BAD_VALUE', `a negative strength has no target class for "${spec}"`);
    return { kind: 'class', attribute, index: labels.indexOf(value), label: value };
  }
  throw new EngineError('DIRECTION_INVALID', schema ? `evalTarget "${spec}" names no attribute the reader knows (${[...schema.scalars, ...schema.binary, ...Object.keys(schema.classes)].join(', ')})` : `evalTarget "${spec}" is not attribute:value`);
}

const argmax = (v: number[]) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

function reached(t: EvalTarget, before: AttributeReading, after: AttributeReading): boolean {
  const a = after[t.attribute]!;
  const b = before[t.attribute]!;
  if (t.kind === 'scalar') return t.sign * ((a as number) - (b as number)) >= SCALAR_SUCCESS_DELTA;
  if (t.kind === 'binary') return t.want === 1 ? (a as number) > 0.5 : (a as number) < 0.5;
  return argmax(a as number[]) === t.index;
}

/**
 * Faces that do not have the target already (an edit toward it can be observed). A scalar needs room to
 * move by SCALAR_SUCCESS_DELTA (and 0.05 more) below the reader's reach: with a reach of 1, smile counted
 * faces read at 0.55-0.65 that even a rendered full grin (read 0.885 on average) cannot move far enough
 * (docs/quality.md, "What `asyrp eval` measures").
 */
export function eligible(t: EvalTarget, before: AttributeReading, schema: Pick<AttributeSchema, 'reach'> = {}): boolean {
  const b = before[t.attribute]!;
  if (t.kind === 'scalar') {
    const [low, high] = schema.reach?.[t.attribute] ?? [-1, 1];
    const top = t.sign > 0 ? high : -low;
    return t.sign * (b as number) < top - SCALAR_SUCCESS_DELTA - 0.05;
  }
  if (t.kind === 'binary') return t.want === 1 ? (b as number) < 0.5 : (b as number) > 0.5;
  return argmax(b as number[]) !== t.index;
}

function preservedAttributes(targets: readonly EvalTarget[], schema: AttributeSchema, before: AttributeReading, after: AttributeReading): Record<string, boolean> {
  const skip = new Set(targets.map((t) => t.attribute));
  const out: Record<string, boolean> = {};
  for (const s of schema.scalars) if (!skip.has(s)) out[s] = Math.abs((after[s] as number) - (before[s] as number)) < SCALAR_PRESERVE_DELTA;
  for (const s of schema.binary) if (!skip.has(s)) out[s] = (after[s] as number) > 0.5 === (before[s] as number) > 0.5;
  for (const s of Object.keys(schema.classes)) if (!skip.has(s)) out[s] = argmax(after[s] as number[]) === argmax(before[s] as number[]);
  return out;
}

/** The attribute reader's columns of a row (absent when the package has no reader). */
export interface ReaderColumns {
  readonly eligible: number;
  readonly success: number;
  readonly preservation: number;
  readonly preservedBy: Record<string, number>;
  readonly meanTarget: Record<string, number>;
  /**
   * For a single class target (hair colour): success by the class the face started in, as
   * { label: [reached, eligible] }. A global Δh acts much like one shift, which can carry some source
   * classes to the target and not others; the aggregate hides which.
   */
  readonly successFrom?: Record<string, [number, number]>;
  /**
   * With EvalOptions.groups: per group of faces (e.g. "blonde/medium" for hair colour and skin tone by
   * their render labels), { eligible, success, preserved } as counts, by the reader. An edit that fails on one
   * kind of face (hair-red on blonde hair beside medium skin, docs/research/directions.md, "Per-image
   * directions") hides in the total.
   */
  readonly byGroup?: Record<string, GroupCounts>;
  readonly faceScore: number;
}

/** The twin judge's columns of a row (twin-judge.ts): over the faces that have a twin. */
export interface TwinColumns {
  /** The twins' name ("smile=1", "glasses=1,smile=1"): twins/<key>/ in the faces folder. */
  readonly key: string;
  readonly eligible: number;
  readonly success: number;
  readonly preservation: number;
  /** Mean progress toward the twin inside the region (1: reached it, 0: stayed, < 0: moved away). */
  readonly progress: number;
  /** Mean change outside the region, 0..255 units. */
  readonly outside: number;
  /** Per judged face (its index among the faces given): the verdict's numbers, to find borderline cases. */
  readonly faces: readonly { readonly index: number; readonly progress: number; readonly outside: number }[];
}

export interface EvalRow extends Partial<ReaderColumns> {
  readonly strength: number;
  readonly boosting: boolean;
  /** Which judge the breakdown (byFacet, worstGroup) and the pixel columns follow: the twins when the faces have them. */
  readonly judge: 'twin' | 'reader';
  readonly twin?: TwinColumns;
  /** Per render label (skin tone, eye state, glasses, hair colour, hair length) and value: counts by that judge. */
  readonly byFacet: ByFacet;
  /** The group (of at least MIN_GROUP faces) with the lowest success, and the one with the lowest preservation. */
  readonly worstGroup?: WorstGroup;
  readonly worstPreserved?: WorstGroup;
  readonly pixelChange: number;
  /** Mean |Laplacian| of the output: high-frequency noise, for boosting on vs off. */
  readonly roughness: number;
}

export interface GroupCounts {
  eligible: number;
  success: number;
  preserved: number;
}

/** The package's attribute reader and its schema: the reader's columns. */
export interface ReaderJudge {
  readonly reader: AttributeReader;
  readonly schema: AttributeSchema;
}

export interface EvalOptions {
  readonly strengths: readonly number[];
  readonly batch: number;
  /** A group name per face (same order as the faces): the reader's rows then count by group. */
  readonly groups?: readonly string[];
  /** Each face's render labels (labels.jsonl), for byFacet and worstGroup. */
  readonly labels?: readonly Readonly<Record<string, unknown>>[];
  /** The twins for these targets, one per face (undefined: no twin, not eligible), or undefined when the faces have none. */
  readonly twinsFor?: (targets: readonly EvalTarget[]) => Promise<readonly (Twin | undefined)[] | undefined>;
  /** Called with each run's outputs (CHW in [−1, 1], one per face), e.g. to save the judged edits. */
  readonly onOutputs?: (strength: number, boosting: boolean, outs: readonly Float32Array[]) => Promise<void>;
  readonly onProgress?: (what: string) => void;
}

function roughness(x: Float32Array, R: number): number {
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++)
    for (let y = 1; y < R - 1; y++)
      for (let xx = 1; xx < R - 1; xx++) {
        const i = c * R * R + y * R + xx;
        sum += Math.abs(4 * x[i]! - x[i - 1]! - x[i + 1]! - x[i - R]! - x[i + R]!);
        n++;
      }
  return (sum / n) * 127.5;
}

async function generate(model: LoadedModel, xTs: Float32Array[], plan: EditPlan, batch: number): Promise<Float32Array[]> {
  const seq = timestepSequence(plan.generationSteps, model.manifest.schedule.trainSteps - 1);
  const out: Float32Array[] = [];
  for (let i = 0; i < xTs.length; i += batch) {
    const trs = xTs.slice(i, i + batch).map((xT, k) => {
      const rng = new GaussianRng(plan.seed + i + k);
      return new GenerationTrajectory(xT, seq, model.alphasBar, { tEdit: plan.tEdit, tBoost: plan.tBoost, deltaHAt: plan.deltaHPartsAt, noise: (o) => rng.fillNormal(o) });
    });
    await runToCompletion(model.unet, trs);
    out.push(...trs.map((t) => t.x));
  }
  return out;
}

async function readAll(reader: AttributeReader, xs: Float32Array[], batch: number): Promise<AttributeReading[]> {
  const out: AttributeReading[] = [];
  const size = xs[0]!.length;
  for (let i = 0; i < xs.length; i += batch) {
    const chunk = xs.slice(i, i + batch);
    const t = new Float32Array(chunk.length * size);
    chunk.forEach((x, k) => t.set(x.map((v) => Math.max(-1, Math.min(1, v))), k * size));
    out.push(...(await reader.read(t, chunk.length)));
  }
  return out;
}

export async function evaluateRecipe(
  model: LoadedModel,
  judge: ReaderJudge | undefined,
  faces: readonly Float32Array[],
  recipe: Recipe,
  targetsFor: (strengthScale: number) => EvalTarget[],
  opts: EvalOptions,
): Promise<EvalRow[]> {
  if (opts.groups && opts.groups.length !== faces.length) throw new RangeError(`evaluateRecipe: ${opts.groups.length} groups for ${faces.length} faces`);
  if (opts.labels && opts.labels.length !== faces.length) throw new RangeError(`evaluateRecipe: ${opts.labels.length} labels for ${faces.length} faces`);
  const base = planEdit(model.manifest, recipe, (n) => model.direction(n));
  const R = model.manifest.resolution;
  opts.onProgress?.(`inverting ${faces.length} faces`);
  const seqInv = timestepSequence(base.inversionSteps, model.manifest.schedule.trainSteps - 1);
  const xTs: Float32Array[] = [];
  for (let i = 0; i < faces.length; i += opts.batch) {
    const trs = faces.slice(i, i + opts.batch).map((x0) => new InversionTrajectory(x0, seqInv, model.alphasBar, undefined, base.inversionRefinement));
    await runToCompletion(model.unet, trs);
    xTs.push(...trs.map((t) => Float32Array.from(t.x)));
  }
  const before = judge ? await readAll(judge.reader, [...faces], opts.batch) : undefined;
  const rows: EvalRow[] = [];
  const runs = [...opts.strengths.map((s) => ({ s, boost: true })), { s: 1, boost: false }];
  for (const { s, boost } of runs) {
    opts.onProgress?.(`strength ${s}${boost ? '' : ', boosting off'}`);
    const scaled: Recipe = { ...recipe, terms: recipe.terms.map((t) => ({ ...t, strength: (t.strength ?? 1) * s })), options: boost ? recipe.options : { ...recipe.options, tBoost: 0 } };
    const plan = planEdit(model.manifest, scaled, (n) => model.direction(n));
    const outs = await generate(model, xTs, plan, opts.batch);
    await opts.onOutputs?.(s, boost, outs);
    const targets = targetsFor(s);
    const twins = opts.twinsFor ? await opts.twinsFor(targets) : undefined;
    const readerCols = judge && before ? readerColumns(judge, targets, faces, outs, before, await readAll(judge.reader, outs, opts.batch), opts) : undefined;
    const stats = new GroupStats();
    let twinCols: TwinColumns | undefined;
    let judged: number[];
    if (twins) {
      judged = [];
      let success = 0;
      let preserved = 0;
      let progress = 0;
      let outside = 0;
      const perFace: { index: number; progress: number; outside: number }[] = [];
      faces.forEach((x, i) => {
        const twin = twins[i];
        if (!twin) return;
        const v = judgeTwin(x, outs[i]!, twin, R);
        judged.push(i);
        success += v.success ? 1 : 0;
        preserved += v.preserved ? 1 : 0;
        progress += v.progress;
        outside += v.outside;
        perFace.push({ index: i, progress: v.progress, outside: v.outside });
        if (opts.labels) stats.add(opts.labels[i]!, v.success, v.preserved);
      });
      const n = Math.max(1, judged.length);
      twinCols = { key: twinKey(targets), eligible: judged.length, success: success / n, preservation: preserved / n, progress: progress / n, outside: outside / n, faces: perFace };
    } else {
      judged = readerCols?.idx ?? [];
      if (opts.labels && readerCols) for (const i of judged) stats.add(opts.labels[i]!, readerCols.ok.has(i), readerCols.kept.has(i));
    }
    let pixel = 0;
    let rough = 0;
    for (const i of judged) {
      let d = 0;
      for (let k = 0; k < outs[i]!.length; k++) d += Math.abs(Math.max(-1, Math.min(1, outs[i]![k]!)) - faces[i]![k]!);
      pixel += (d / outs[i]!.length) * 127.5;
      rough += roughness(outs[i]!, R);
    }
    const n = Math.max(1, judged.length);
    const worstGroup = stats.worst('success');
    const worstPreserved = stats.worst('preservation');
    rows.push({
      strength: s,
      boosting: boost,
      judge: twinCols ? 'twin' : 'reader',
      ...(readerCols?.columns ?? {}),
      ...(twinCols ? { twin: twinCols } : {}),
      byFacet: stats.byFacet(),
      ...(worstGroup ? { worstGroup } : {}),
      ...(worstPreserved ? { worstPreserved } : {}),
      pixelChange: pixel / n,
      roughness: rough / n,
    });
  }
  return rows;
}

/** The reader's columns for one run, and which faces it judged, reached and kept. */
function readerColumns(
  judge: ReaderJudge,
  targets: readonly EvalTarget[],
  faces: readonly Float32Array[],
  outs: readonly Float32Array[],
  before: readonly AttributeReading[],
  after: readonly AttributeReading[],
  opts: EvalOptions,
): { columns: ReaderColumns; idx: number[]; ok: Set<number>; kept: Set<number> } {
  const { schema } = judge;
  const idx = faces.map((_, i) => i).filter((i) => targets.every((t) => eligible(t, before[i]!, schema)));
  const preservedBy: Record<string, number> = {};
  const ok = new Set<number>();
  const keptSet = new Set<number>();
  let face = 0;
  const meanTarget: Record<string, number> = {};
  const classTarget = targets.length === 1 && targets[0]!.kind === 'class' ? targets[0] : undefined;
  const successFrom: Record<string, [number, number]> = {};
  const byGroup: Record<string, GroupCounts> = {};
  for (const i of idx) {
    const reachedAll = targets.every((t) => reached(t, before[i]!, after[i]!));
    if (reachedAll) ok.add(i);
    const group = opts.groups ? (byGroup[opts.groups[i]!] ??= { eligible: 0, success: 0, preserved: 0 }) : undefined;
    if (classTarget) {
      const from = schema.classes[classTarget.attribute]![argmax(before[i]![classTarget.attribute] as number[])]!;
      const c = (successFrom[from] ??= [0, 0]);
      c[0] += reachedAll ? 1 : 0;
      c[1]++;
    }
    const p = preservedAttributes(targets, schema, before[i]!, after[i]!);
    const kept = Object.values(p).every(Boolean);
    if (kept) keptSet.add(i);
    if (group) {
      group.eligible++;
      group.success += reachedAll ? 1 : 0;
      group.preserved += kept ? 1 : 0;
    }
    for (const [k, v] of Object.entries(p)) preservedBy[k] = (preservedBy[k] ?? 0) + (v ? 1 : 0);
    for (const t of targets) {
      const v = after[i]![t.attribute]!;
      meanTarget[t.attribute] = (meanTarget[t.attribute] ?? 0) + (Array.isArray(v) ? v[t.kind === 'class' ? t.index : 0]! : v);
    }
    face += after[i]!.face as number;
  }
  const n = Math.max(1, idx.length);
  const columns: ReaderColumns = {
    eligible: idx.length,
    success: ok.size / n,
    preservation: keptSet.size / n,
    preservedBy: Object.fromEntries(Object.entries(preservedBy).map(([k, v]) => [k, v / n])),
    meanTarget: Object.fromEntries(Object.entries(meanTarget).map(([k, v]) => [k, v / n])),
    ...(classTarget ? { successFrom } : {}),
    ...(opts.groups ? { byGroup } : {}),
    faceScore: face / n,
  };
  return { columns, idx, ok, kept: keptSet };
}
