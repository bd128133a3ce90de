/** Writes that are all-or-nothing: a killed process leaves the old file or the new one, never half. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.js';

/**
 * Makes a directory's entries durable: after a rename or a mkdir, the new name lives in the directory
 * itself, and only an fsync of the directory gets it to disk (ext4 and XFS may otherwise lose it on power
 * loss although the file's own data was synced).
 */
export function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Some file systems cannot fsync a directory (EINVAL); there is nothing more to make durable there.
    if (code === 'EINVAL' || code === 'EISDIR') return;
    throw new EngineError('IO_FAILED', `cannot sync the folder ${path}: ${code ?? (e as Error).message}`, { path, errno: code }, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError('IO_FAILED', code === 'ENOSPC' ? `the disk is full (writing ${path})` : `cannot write ${path}: ${code ?? (e as Error).message}`, { path, errno: code }, { cause: e });
  }
}
