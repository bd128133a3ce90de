/**
 * The install's guards, each alone: disk space counted per file system and named in the message, the
 * lock between two installs (and a stale one taken over), staging folders invisible to the registry until
 * the one rename, and the apt line for missing Python modules.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSpace } from '../../src/models-install/disk-space.js';
import { InstallError } from '../../src/models-install/install-error.js';
import { commitPackage, createStaging, lockPackage, removePackage } from '../../src/models-install/package-staging.js';
import { aptLine, checkPython, toolError } from '../../src/models-install/python-tools.js';
import { listModelPackages } from '../../src/engine/model/model-registry.js';
import { tempDir, testModels } from '../helpers/paths.js';

function thrown(f: () => unknown): InstallError {
  try {
    f();
  } catch (e) {
    if (e instanceof InstallError) return e;
    throw e;
  }
  throw new Error('expected an InstallError');
}

async function rejected(p: Promise<unknown>): Promise<InstallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InstallError) return e;
    throw e;
  }
  throw new Error('expected an InstallError');
}

describe('ensureSpace', () => {
  it('adds up what goes on one file system and says how much is needed, where, and what is free', async () => {
    const dir = tempDir('asyrp-space-');
    const free = async () => 600e6;
    await ensureSpace([{ dir, bytes: 500e6, what: 'downloads' }], free);
    const e = await rejected(ensureSpace([{ dir, bytes: 455e6, what: 'downloads' }, { dir: join(dir, 'models', 'x'), bytes: 478e6, what: 'model package' }], free));
    expect(e.code).toBe('NO_SPACE');
    expect(e.message).toBe(`not enough disk space: this needs about 933.0 MB in ${dir} (455.0 MB downloads + 478.0 MB model package) and 600.0 MB is free; free 333.0 MB or point modelsDir / dataDir elsewhere`);
  });
});

describe('lock and staging', () => {
  it('a second install of the same id is refused while the first runs; a lock left by a dead process is taken over', async () => {
    const models = tempDir('asyrp-lock-');
    const lock = lockPackage(models, 'church');
    const e = thrown(() => lockPackage(models, 'church'));
    expect(e.code).toBe('BUSY');
    expect(e.message).toContain(`another install of church is running (process ${process.pid})`);
    lock.release();
    // a process that has exited leaves its pid behind
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(join(models, '.church.lock'), `${pid}\n`);
    lockPackage(models, 'church').release();
    expect(existsSync(join(models, '.church.lock'))).toBe(false);
  });

  it('a staged package is not listed until it is committed; remove takes it out in one step', () => {
    const models = tempDir('asyrp-stage-');
    const staging = createStaging(models, 'tiny-unet');
    cpSync(join(testModels, 'tiny-unet'), staging, { recursive: true });
    expect(listModelPackages(models)).toEqual([]);
    commitPackage(staging, models, 'tiny-unet', false);
    expect(listModelPackages(models).map((p) => p.manifest.id)).toEqual(['tiny-unet']);
    const again = createStaging(models, 'tiny-unet');
    expect(thrown(() => commitPackage(again, models, 'tiny-unet', false)).code).toBe('ALREADY_INSTALLED');
    cpSync(join(testModels, 'tiny-unet'), again, { recursive: true });
    commitPackage(again, models, 'tiny-unet', true);
    expect(readdirSync(models)).toEqual(['tiny-unet']);
    removePackage(models, 'tiny-unet');
    expect(readdirSync(models)).toEqual([]);
    expect(thrown(() => removePackage(models, 'tiny-unet')).code).toBe('NOT_INSTALLED');
  });

  it('staging folders of a dead earlier run are cleared', () => {
    const models = tempDir('asyrp-stale-');
    mkdirSync(join(models, '.staging-church-999999999'));
    const s = createStaging(models, 'church');
    expect(readdirSync(models)).toEqual([s.split('/').at(-1)]);
  });
});

describe('python tools', () => {
  it('names the Debian package of each missing module', async () => {
    expect(aptLine(['torch', 'PIL'])).toBe('apt-get install -y python3-torch python3-pil');
    const e = await rejected(checkPython('/usr/bin/python3', ['numpy', 'asyrp_no_such_module']));
    expect(e.code).toBe('PYTHON_MODULE_MISSING');
    expect(e.message).toMatch(/^Python 3\.\d+\.\d+ \(\/usr\/bin\/python3\) lacks asyrp_no_such_module, needed by the converters: apt-get install -y python3-asyrp_no_such_module$/);
    expect((await checkPython('/usr/bin/python3')).version).toMatch(/^3\./);
  });

  it("a converter's failure becomes its one error line; a missing module its apt line", () => {
    expect(toolError({ code: 2, stdout: '', stderr: 'reading x\nerror: x.ckpt: not on the allow-list: posix.system\n' })).toBe('x.ckpt: not on the allow-list: posix.system');
    expect(toolError({ code: 1, stdout: '', stderr: "Traceback (most recent call last):\nModuleNotFoundError: No module named 'onnx'\n" })).toBe('the module onnx is missing: apt-get install -y python3-onnx');
  });
});
