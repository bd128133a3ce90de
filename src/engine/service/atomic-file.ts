/** Writes that are all-or-nothing: a killed process leaves the old file or the new one, never half. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.js';

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
