/** A model package's held-out evaluation faces (eval/labels.jsonl + images) and its reader schema. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { ModelPackage } from '../model/model-registry.js';
import type { AttributeSchema } from './evaluate.js';

export interface EvalFace {
  readonly file: string;
  readonly labels: Readonly<Record<string, unknown>>;
}

/** Faces skip .. skip+n-1 of the set, so a second slice can validate choices made on the first. */
export function readEvalSet(pkg: ModelPackage, n: number, skip = 0): EvalFace[] {
  const file = join(pkg.dir, 'eval', 'labels.jsonl');
  if (!existsSync(file)) throw new EngineError('MODEL_INVALID', `${pkg.manifest.id} has no evaluation set (${file} is missing)`);
  const faces = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      if (typeof row.file !== 'string' || row.file.includes('..')) throw new EngineError('MODEL_INVALID', `${file}: line ${i + 1} has no valid "file"`);
      return { file: join(pkg.dir, 'eval', row.file), labels: row };
    });
  if (faces.length < skip + n) throw new EngineError('MODEL_INVALID', `${file} holds ${faces.length} faces; ${skip > 0 ? `faces ${skip}-${skip + n - 1}` : n} were asked for`);
  return faces.slice(skip, skip + n);
}

export function readAttributeSchema(pkg: ModelPackage): AttributeSchema {
  const file = join(pkg.dir, 'attributes.json');
  if (!existsSync(file)) throw new EngineError('MODEL_INVALID', `${pkg.manifest.id} has no attribute schema (${file} is missing)`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as AttributeSchema;
  if (!Array.isArray(raw.scalars) || !Array.isArray(raw.binary) || typeof raw.classes !== 'object') throw new EngineError('MODEL_INVALID', `${file}: needs scalars, binary and classes`);
  return raw;
}
