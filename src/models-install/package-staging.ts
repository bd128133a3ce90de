/**
 * A model package appears in models/ only when it is complete: it is built in a hidden staging folder
 * (`.staging-<id>-<pid>`, which the registry skips), then renamed into place in one step; a lock file
 * keeps two installs of one id apart. Removal renames the package away before deleting it, so a
 * half-deleted package is never listed either.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { InstallError } from './install-error.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface PackageLock {
  readonly path: string;
  release(): void;
}

export function lockPackage(modelsDir: string, id: string): PackageLock {
  mkdirSync(modelsDir, { recursive: true });
  const path = join(modelsDir, `.${id}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return { path, release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new InstallError('IO_FAILED', `cannot create ${path}: ${(e as Error).message}`);
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new InstallError('BUSY', `another install of ${id} is running (process ${pid}); wait for it to finish, or delete ${path} if that process is not asyrp`, { pid });
      }
      rmSync(path, { force: true }); // left by a run that died
    }
  }
  throw new InstallError('BUSY', `cannot take the lock ${path}`);
}

/** A fresh staging folder for `id`; staging folders of earlier runs that died are removed first. */
export function createStaging(modelsDir: string, id: string): string {
  for (const name of existsSync(modelsDir) ? readdirSync(modelsDir) : []) {
    const m = new RegExp(`^\\.(staging|trash)-${id.replace(/[-]/g, '\\-')}-(\\d+)$`).exec(name);
    if (m && (Number(m[2]) === process.pid || !alive(Number(m[2])))) rmSync(join(modelsDir, name), { recursive: true, force: true });
  }
  const dir = join(modelsDir, `.staging-${id}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Moves a finished staging folder to models/<id> (replacing an installed one only with `force`). */
export function commitPackage(staging: string, modelsDir: string, id: string, force: boolean): string {
  const target = join(modelsDir, id);
  let trash: string | undefined;
  if (existsSync(target)) {
    if (!force) throw new InstallError('ALREADY_INSTALLED', `${id} is already installed in ${target}; add --force to replace it, or run asyrp models remove ${id} first`);
    trash = join(modelsDir, `.trash-${id}-${process.pid}`);
    renameSync(target, trash);
  }
  renameSync(staging, target);
  if (trash) rmSync(trash, { recursive: true, force: true });
  return target;
}

export function removePackage(modelsDir: string, id: string): string {
  const target = join(modelsDir, id);
  if (!existsSync(join(target, 'model.json'))) throw new InstallError('NOT_INSTALLED', `${id} is not installed in ${modelsDir} (asyrp models lists what is)`);
  const trash = join(modelsDir, `.trash-${id}-${process.pid}`);
  renameSync(target, trash);
  rmSync(trash, { recursive: true, force: true });
  return target;
}

/** Bytes under a folder (the package's size on disk). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}
