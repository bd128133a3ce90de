/**
 * The model's eval set is rendered on demand (src/cli/eval-faces.ts), not shipped. These run the real
 * renderer (tools/asyrp_tools/renderer.py, Debian's numpy and Pillow) on a few faces: the rendered faces are
 * the ones the package's samples/ were drawn from, byte for byte, so the set the model card measured on is
 * still what the renderer makes; a rendered set is reused, a stale one rendered again, and a missing Python
 * or renderer is one line that says what to install or give.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelEvalFaces, type RenderPlace } from '../../src/cli/eval-faces.js';
import { InstallError } from '../../src/models-install/install-error.js';
import { EngineError } from '../../src/engine/errors.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const toyfaces = readModelPackage(join(repoRoot, 'models', 'toyfaces-32')).manifest;
const samples = join(repoRoot, 'models', 'toyfaces-32', 'samples');
const toolsDir = join(repoRoot, 'tools');

function place(dataDir: string, notes: string[], over: Partial<RenderPlace> = {}): RenderPlace {
  return { dataDir, python: '/usr/bin/python3', toolsDir, onRender: (t) => notes.push(t), ...over };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('the model eval set, rendered on demand', () => {
  it('renders the faces the package samples were drawn from, with their twins, once', async () => {
    expect(toyfaces.evalSet).toEqual({ renderSeed: 4242, faces: 500 });
    const data = tempDir('asyrp-evalset-');
    const notes: string[] = [];
    const set = { id: toyfaces.id, resolution: toyfaces.resolution, renderSeed: toyfaces.evalSet!.renderSeed, faces: 10 };
    const dir = await modelEvalFaces(set, place(data, notes));
    expect(dir).toBe(join(data, 'eval-sets', 'toyfaces-32'));
    expect(notes).toEqual([`rendering the eval set of toyfaces-32 (10 faces of render seed 4242, with their twins) into ${dir}`]);
    const labels = readFileSync(join(dir, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const shipped = readFileSync(join(samples, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(labels).toHaveLength(10);
    shipped.forEach((s, i) => {
      expect({ ...labels[i], file: s.file }).toEqual(s);
      expect(readFileSync(join(dir, labels[i]!.file as string)).equals(readFileSync(join(samples, s.file as string)))).toBe(true);
    });
    // Twins of every shipped direction's target (and the frown and the mix), so the twin judge can run.
    expect(readdirSync(join(dir, 'twins')).sort()).toEqual(['eyes_open=0', 'glasses=1', 'glasses=1,smile=1', 'hair_colour=red', 'smile=-1', 'smile=1']);
    expect(existsSync(join(dir, 'regions', 'smile=1'))).toBe(true);
    // Rendered sets are reused; nothing is left beside them.
    expect(await modelEvalFaces(set, place(data, notes))).toBe(dir);
    expect(notes).toHaveLength(1);
    expect(readdirSync(join(data, 'eval-sets'))).toEqual(['toyfaces-32']);
    // A set rendered for another size (or seed, resolution, renderer) is rendered again.
    await modelEvalFaces({ ...set, faces: 12 }, place(data, notes));
    expect(notes).toHaveLength(2);
    expect(readFileSync(join(dir, 'labels.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(12);
    expect(readdirSync(join(data, 'eval-sets'))).toEqual(['toyfaces-32']);
  }, 30_000);

  it('says what to install when Python is missing, and which file when the renderer is', async () => {
    const set = { id: 'm', resolution: 32, renderSeed: 1, faces: 2 };
    const noPython = await rejection(modelEvalFaces(set, place(tempDir(), [], { python: join(tempDir(), 'python3') })));
    expect(noPython).toBeInstanceOf(InstallError);
    expect((noPython as InstallError).code).toBe('PYTHON_MISSING');
    expect((noPython as Error).message).toMatch(/install it with apt-get install -y python3 python3-numpy python3-pil$/);
    const tools = tempDir();
    mkdirSync(join(tools, 'asyrp_tools'));
    cpSync(join(toolsDir, 'asyrp_tools', 'renderer.py'), join(tools, 'asyrp_tools', 'renderer.py'));
    const noTwins = await rejection(modelEvalFaces(set, place(tempDir(), [], { toolsDir: tools })));
    expect(noTwins).toBeInstanceOf(EngineError);
    expect((noTwins as Error).message).toBe(`${join(tools, 'asyrp_tools', 'twins.py')} is missing: the eval set is rendered by the repository's face renderer (or give --faces <folder>)`);
    // A renderer that fails leaves no half-written set behind and names its error line.
    writeFileSync(join(tools, 'asyrp_tools', 'twins.py'), '');
    writeFileSync(join(tools, 'asyrp_tools', '__init__.py'), '');
    writeFileSync(join(tools, 'asyrp_tools', 'renderer.py'), 'import os, sys\nos.makedirs(os.path.join(sys.argv[sys.argv.index("--out") + 1], "images"))\nsys.exit("error: the disk is full")\n');
    const data = tempDir();
    const failed = await rejection(modelEvalFaces(set, place(data, [], { toolsDir: tools })));
    expect((failed as EngineError).code).toBe('IO_FAILED');
    expect((failed as Error).message).toBe('rendering the eval set of m failed: the disk is full');
    expect(readdirSync(join(data, 'eval-sets'))).toEqual([]);
  });
});
