/** Finds model packages (models/<id>/model.json) on disk. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { EngineError } from '../errors.js';
import { parseModelManifest, type ModelManifest } from './model-manifest.js';

export interface ModelPackage {
  readonly dir: string;
  readonly manifest: ModelManifest;
}

export function readModelPackage(dir: string): ModelPackage {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) throw new EngineError('MODEL_NOT_FOUND', `no model package at ${dir} (model.json is missing)`, { dir });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError('MODEL_INVALID', `${file}: cannot be read (${(e as Error).message})`, { file });
  }
  return { dir, manifest: parseModelManifest(text, file) };
}

/** Every valid package under modelsDir, sorted by id; broken ones are reported through onInvalid. */
export function listModelPackages(modelsDir: string, onInvalid?: (dir: string, error: EngineError) => void): ModelPackage[] {
  if (!existsSync(modelsDir)) return [];
  const out: ModelPackage[] = [];
  for (const name of readdirSync(modelsDir).sort()) {
    // Hidden folders are installs in progress (.staging-*) or removals (.trash-*): never packages yet.
    if (name.startsWith('.')) continue;
    const dir = join(modelsDir, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'model.json'))) continue;
    try {
      out.push(readModelPackage(dir));
    } catch (e) {
      if (e instanceof EngineError) onInvalid?.(dir, e);
      else throw e;
    }
  }
  return out.sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
}

/**
 * Resolves a model by id (a folder of modelsDir) or by a path to a package folder. With no name, the
 * configured default, else the first installed model.
 */
export function resolveModelPackage(modelsDir: string, nameOrDir: string | null | undefined, defaultModel: string | null, cwd = process.cwd()): ModelPackage {
  const name = nameOrDir ?? defaultModel;
  if (!name) {
    const all = listModelPackages(modelsDir);
    if (!all[0]) throw new EngineError('MODEL_NOT_FOUND', `no models are installed in ${modelsDir}`, { modelsDir });
    return all[0];
  }
  const looksLikePath = name.includes('/') || name.includes('\\') || name.startsWith('.');
  if (looksLikePath) return readModelPackage(isAbsolute(name) ? name : resolve(cwd, name));
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new EngineError('MODEL_NOT_FOUND', `"${name}" is not a model id`, { model: name });
  const dir = join(modelsDir, name);
  if (!existsSync(join(dir, 'model.json'))) {
    const ids = listModelPackages(modelsDir).map((p) => p.manifest.id);
    throw new EngineError('MODEL_NOT_FOUND', `model "${name}" is not installed; installed: ${ids.join(', ') || '(none)'}`, { model: name, installed: ids });
  }
  return readModelPackage(dir);
}
