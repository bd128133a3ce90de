/**
 * model.json, the contract between the Python exporters (tools/) and the engine: format "asyrp-model/1".
 * Unknown fields are ignored; a missing or wrong required field is an error naming the file, the field
 * and what was expected.
 */
import { EngineError } from '../errors.js';
import type { ScheduleConfig } from '../diffusion/schedule.js';

export type Preprocess = 'center-crop' | 'align-face';

export interface ModelDefaults {
  readonly inversionSteps: number;
  /** Fixed-point refinements per inversion step (InversionTrajectory); 0 = plain DDIM inversion. */
  readonly inversionRefinement: number;
  readonly generationSteps: number;
  readonly tEdit: number;
  readonly tBoost: number;
}

export interface ModelManifest {
  readonly format: 'asyrp-model/1';
  readonly id: string;
  readonly title: string;
  readonly resolution: number;
  readonly schedule: ScheduleConfig;
  /** Path of the UNet graph, relative to the package folder. */
  readonly unet: string;
  /** [C, H, W] of the bottleneck h. */
  readonly hspace: readonly [number, number, number];
  readonly preprocess: Preprocess;
  readonly defaults: ModelDefaults;
  /** Folder of direction files, relative to the package folder. */
  readonly directions: string;
  /** Optional attribute reader graph (the default model ships one). */
  readonly attributes?: string;
  /**
   * What the model edits, in a few words for people ("synthetic cartoon faces, 32 px"): shown by `help`
   * and `asyrp models`, and in the note when an input is clearly outside it.
   */
  readonly domain?: string;
  /**
   * The held-out faces `asyrp eval` measures on, as a render rather than files: faces 0..faces-1 of render
   * seed `renderSeed` of tools/asyrp_tools/renderer.py at the model's resolution (a seed range training never
   * draws from). Measurement material stays out of the package; the CLI renders the set on demand.
   */
  readonly evalSet?: EvalSetSpec;
}

export interface EvalSetSpec {
  readonly renderSeed: number;
  readonly faces: number;
}

type Obj = Record<string, unknown>;

export function parseModelManifest(text: string, file: string): ModelManifest {
  const bad = (field: string, expected: string, got: unknown) =>
    new EngineError('MODEL_INVALID', `${file}: field "${field}" must be ${expected}; got ${got === undefined ? 'nothing' : JSON.stringify(got)}`, { file, field });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EngineError('MODEL_INVALID', `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(root)', 'a JSON object', raw);
  const m = raw as Obj;
  const obj = (v: unknown, field: string): Obj => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'an object', v);
    return v as Obj;
  };
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw bad(field, 'a non-empty string', v);
    return v;
  };
  const int = (v: unknown, field: string, lo: number, hi: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(field, `a whole number from ${lo} to ${hi}`, v);
    return v;
  };
  const num = (v: unknown, field: string, lo: number, hi: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= lo || v >= hi) throw bad(field, `a number between ${lo} and ${hi}`, v);
    return v;
  };
  /** Paths inside the package only: a manifest must not point the engine at arbitrary files. */
  const relPath = (v: unknown, field: string): string => {
    const p = str(v, field);
    if (p.startsWith('/') || p.split(/[\\/]/).includes('..')) throw bad(field, 'a path inside the model folder', v);
    return p;
  };

  if (m.format !== 'asyrp-model/1') throw bad('format', '"asyrp-model/1"', m.format);
  const id = str(m.id, 'id');
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) throw bad('id', 'lowercase letters, digits, ".", "_" or "-"', id);
  const s = obj(m.schedule, 'schedule');
  if (s.type !== 'linear') throw bad('schedule.type', '"linear"', s.type);
  const schedule: ScheduleConfig = {
    type: 'linear',
    betaStart: num(s.betaStart, 'schedule.betaStart', 0, 1),
    betaEnd: num(s.betaEnd, 'schedule.betaEnd', 0, 1),
    trainSteps: int(s.trainSteps, 'schedule.trainSteps', 2, 100_000),
  };
  const hs = m.hspace;
  if (!Array.isArray(hs) || hs.length !== 3 || !hs.every((d) => Number.isInteger(d) && d > 0)) throw bad('hspace', '[C, H, W] of positive whole numbers', hs);
  if (m.preprocess !== 'center-crop' && m.preprocess !== 'align-face') throw bad('preprocess', '"center-crop" or "align-face"', m.preprocess);
  const d = obj(m.defaults, 'defaults');
  const tMax = schedule.trainSteps - 1;
  const domainText = (v: unknown): string => {
    if (typeof v !== 'string' || !v.trim() || v.length > 120) throw bad('domain', 'a short description of what the model edits (1-120 characters)', v);
    return v.trim();
  };
  const evalSetSpec = (e: Obj): EvalSetSpec => ({ renderSeed: int(e.renderSeed, 'evalSet.renderSeed', 0, 1_000_000), faces: int(e.faces, 'evalSet.faces', 1, 100_000) });
  const manifest: ModelManifest = {
    format: 'asyrp-model/1',
    id,
    title: str(m.title, 'title'),
    resolution: int(m.resolution, 'resolution', 8, 4096),
    schedule,
    unet: relPath(m.unet, 'unet'),
    hspace: [hs[0], hs[1], hs[2]] as [number, number, number],
    preprocess: m.preprocess,
    defaults: {
      inversionSteps: int(d.inversionSteps, 'defaults.inversionSteps', 2, 1000),
      inversionRefinement: d.inversionRefinement === undefined ? 0 : int(d.inversionRefinement, 'defaults.inversionRefinement', 0, 10),
      generationSteps: int(d.generationSteps, 'defaults.generationSteps', 2, 1000),
      tEdit: int(d.tEdit, 'defaults.tEdit', 0, tMax),
      tBoost: int(d.tBoost, 'defaults.tBoost', 0, tMax),
    },
    directions: relPath(m.directions, 'directions'),
    ...(m.attributes !== undefined ? { attributes: relPath(m.attributes, 'attributes') } : {}),
    ...(m.domain !== undefined ? { domain: domainText(m.domain) } : {}),
    ...(m.evalSet !== undefined ? { evalSet: evalSetSpec(obj(m.evalSet, 'evalSet')) } : {}),
  };
  return manifest;
}
