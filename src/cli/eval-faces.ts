/**
 * The faces `asyrp eval` measures on when no --faces folder is given: the model's eval set (model.json
 * "evalSet"), rendered on demand by tools/asyrp_tools/renderer.py, each face with its twins, into
 * <dataDir>/eval-sets/<model id>/ and kept there. Why not ship the images: they serve measurement only, and
 * the renderer re-makes them bit for bit from the seed (500 faces with twins take a few seconds), so the
 * model package holds what the product uses and nothing else.
 *
 * render.json in the folder records what was rendered (seed, count, resolution, a hash of the renderer's
 * source); a set rendered otherwise is rendered again, so a changed renderer never leaves stale faces.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../engine/errors.js';
import { checkPython, runPython, toolError } from '../models-install/python-tools.js';

export interface EvalSetRender {
  /** The model id: names the cache folder. */
  readonly id: string;
  readonly resolution: number;
  readonly renderSeed: number;
  readonly faces: number;
}

export interface RenderPlace {
  readonly dataDir: string;
  readonly python: string;
  /** The repository's tools/ folder (asyrp_tools is imported from there). */
  readonly toolsDir: string;
  /** Told once, before a render starts (it writes files and takes seconds). */
  readonly onRender?: (text: string) => void;
}

/** What the renderer imports (tools/asyrp_tools/renderer.py, twins.py). */
export const RENDER_MODULES = ['numpy', 'PIL'] as const;
const RENDERER_SOURCES = ['renderer.py', 'twins.py'];

/** The folder holding the model's rendered eval set (labels.jsonl, images/, twins/, regions/), rendered first if needed. */
export async function modelEvalFaces(set: EvalSetRender, place: RenderPlace): Promise<string> {
  const dir = join(place.dataDir, 'eval-sets', set.id);
  const stamp = JSON.stringify({ renderSeed: set.renderSeed, faces: set.faces, resolution: set.resolution, renderer: rendererHash(place.toolsDir) });
  if (readStamp(dir) === stamp) return dir;
  await checkPython(place.python, RENDER_MODULES, 'the face renderer that makes the eval set');
  place.onRender?.(`rendering the eval set of ${set.id} (${set.faces} faces of render seed ${set.renderSeed}, with their twins) into ${dir}`);
  const tmp = `${dir}.rendering-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const args = ['-m', 'asyrp_tools.renderer', '--out', tmp, '--n', String(set.faces), '--seed', String(set.renderSeed), '--resolution', String(set.resolution), '--twins'];
  const run = await runPython(place.python, args, { cwd: place.toolsDir, aptModules: RENDER_MODULES });
  try {
    if (run.code !== 0) throw new EngineError('IO_FAILED', `rendering the eval set of ${set.id} failed: ${toolError(run)}`);
    await writeFile(join(tmp, 'render.json'), stamp + '\n');
    // Another eval may have rendered the same set meanwhile; keep that one rather than pull it from under a reader.
    if (readStamp(dir) === stamp) return dir;
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function readStamp(dir: string): string | undefined {
  const file = join(dir, 'render.json');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

function rendererHash(toolsDir: string): string {
  const hash = createHash('sha256');
  for (const name of RENDERER_SOURCES) {
    const file = join(toolsDir, 'asyrp_tools', name);
    if (!existsSync(file)) throw new EngineError('IO_FAILED', `${file} is missing: the eval set is rendered by the repository's face renderer (or give --faces <folder>)`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}
