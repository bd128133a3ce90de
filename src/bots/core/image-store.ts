/**
 * Input images and results on disk, named by content hash (inputs) and edit id (results). Buttons and
 * undo work from these files after a restart, so nothing depends on CDN links, which expire.
 * Every file is written to a temporary name in the same folder and renamed into place: a crash or a
 * shutdown mid-write leaves either no file or the whole file, never a torn image under the real name.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserFacingError } from './user-facing-error.js';

/** display: the result as posted, enlarged for chat (kept only when it differs from the model's own pixels). */
export type StoredVariant = 'after' | 'compare' | 'grid' | 'display';

export class ImageStore {
  constructor(private readonly dir: string) {}

  saveInput(bytes: Uint8Array): { path: string; hash: string } {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const folder = join(this.dir, 'inputs');
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `${hash}.img`);
    // Named by content: a file already there holds these very bytes (it was renamed into place whole).
    if (!existsSync(path)) writeAtomically(path, bytes);
    return { path, hash };
  }

  saveResult(editId: number, variant: StoredVariant, bytes: Uint8Array): string {
    const folder = join(this.dir, 'results');
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `${editId}-${variant}.png`);
    writeAtomically(path, bytes);
    return path;
  }

  /** The enlarged copy of an edit's result that was posted, if one was made. */
  readDisplay(editId: number): Uint8Array | null {
    const path = join(this.dir, 'results', `${editId}-display.png`);
    return existsSync(path) ? readFileSync(path) : null;
  }

  read(path: string): Uint8Array {
    try {
      return readFileSync(path);
    } catch {
      throw new UserFacingError('not-found', 'The image for that edit is no longer stored on the bot server.');
    }
  }
}

let tmpCounter = 0;

/** Temp file + rename (atomic within one filesystem); the temp file is removed if the write fails. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
