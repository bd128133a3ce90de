/**
 * A job's folder on disk (data/jobs/<id>/): the input image and the request, written before the submit
 * is answered, so that a restart can run the job again; and the results once it is done.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import type { JobRequest } from './job.js';

export class JobFiles {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  write(id: string, image: Uint8Array, request: JobRequest): string {
    const input = join(this.dir(id), 'input.bin');
    try {
      writeFileAtomic(input, image);
      writeFileAtomic(join(this.dir(id), 'request.json'), JSON.stringify(request));
    } catch (e) {
      // No half-written job folder: a restart must not find an input without its request.
      this.remove(id);
      throw e;
    }
    return input;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** The persisted request, or null when the folder is incomplete (a crash before the submit finished). */
  readRequest(id: string): JobRequest | null {
    const file = join(this.dir(id), 'request.json');
    if (!existsSync(file) || !existsSync(join(this.dir(id), 'input.bin'))) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as JobRequest;
    } catch {
      return null;
    }
  }

  readInput(id: string): Buffer {
    try {
      return readFileSync(join(this.dir(id), 'input.bin'));
    } catch (e) {
      throw new EngineError('IO_FAILED', `the input of job ${id} is missing (${(e as NodeJS.ErrnoException).code})`);
    }
  }

  readResult(id: string, file: string): Buffer | null {
    try {
      return readFileSync(join(this.dir(id), file));
    } catch {
      return null;
    }
  }
}
