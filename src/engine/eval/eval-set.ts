/** Labelled evaluation faces (labels.jsonl + images) and a model package's attribute-reader schema. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { ModelPackage } from '../model/model-registry.js';
import type { AttributeSchema } from './evaluate.js';

export interface EvalFace {
  readonly file: string;
  readonly labels: Readonly<Record<string, unknown>>;
}

/**
 * Faces skip .. skip+n-1 of a labelled face folder (labels.jsonl naming images beside it: the model's rendered
 * eval set, or any set the user names), so a second slice can validate choices made on the first.
 */
export function readEvalSet(dir: string, n: number, skip = 0): EvalFace[] {
  const file = join(dir, 'labels.jsonl');
  if (!existsSync(file)) throw new EngineError('IO_FAILED', `${file} is missing: an evaluation folder holds labels.jsonl and the images it names`);
  const faces = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new EngineError('IO_FAILED', `${file}: line ${i + 1} is not JSON`);
      }
      if (typeof row.file !== 'string' || row.file.includes('..')) throw new EngineError('IO_FAILED', `${file}: line ${i + 1} has no valid "file"`);
      return { file: join(dir, row.file), labels: row };
    });
  if (faces.length < skip + n) throw new EngineError('IO_FAILED', `${file} holds ${faces.length} faces; ${skip > 0 ? `faces ${skip}-${skip + n - 1}` : n} were asked for`);
  const slice = faces.slice(skip, skip + n);
  const absent = slice.find((f) => !existsSync(f.file));
  if (absent) throw new EngineError('IO_FAILED', `${file} names ${absent.file}, which is missing`);
  return slice;
}

export function readAttributeSchema(pkg: ModelPackage): AttributeSchema {
  const file = join(pkg.dir, 'attributes.json');
  if (!existsSync(file)) throw new EngineError('MODEL_INVALID', `${pkg.manifest.id} has no attribute schema (${file} is missing)`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as AttributeSchema;
  if (!Array.isArray(raw.scalars) || !Array.isArray(raw.binary) || typeof raw.classes !== 'object') throw new EngineError('MODEL_INVALID', `${file}: needs scalars, binary and classes`);
  if (raw.reach !== undefined) {
    if (typeof raw.reach !== 'object' || raw.reach === null || Array.isArray(raw.reach)) throw new EngineError('MODEL_INVALID', `${file}: "reach" must map scalar names to [low, high]`);
    for (const [name, range] of Object.entries(raw.reach)) {
      if (!raw.scalars.includes(name)) throw new EngineError('MODEL_INVALID', `${file}: "reach" names "${name}", which is not one of its scalars (${raw.scalars.join(', ')})`);
      const ok = Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1) && range[0] < range[1];
      if (!ok) throw new EngineError('MODEL_INVALID', `${file}: "reach" of "${name}" must be [low, high] with −1 ≤ low < high ≤ 1, not ${JSON.stringify(range)}`);
    }
  }
  return raw;
}
