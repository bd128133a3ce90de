/**
 * A job's folder on disk (data/jobs/<id>/): the input image and the request, written before the submit
 * is answered, so that a restart can run the job again; and the results once it is done.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { fsyncDir, fsyncDirAsync, SharedDirSync, writeFileAtomic, writeFileAtomicAsync } from './atomic-file.js';
import type { JobRequest, Settlement } from './job.js';
import type { ResultVariant } from '../client/api-types.js';

/** A job's durable final record (final.json): once written, a restart never runs the job again. */
export interface FinalRecord extends Settlement {
  readonly results: ResultVariant[];
}

/** Job folders are named by UUID; nothing else under the jobs root is ours to remove. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** mkdir on libuv's pool, its failure typed as the writes' are (a full disk: IO_FAILED, 507). */
async function mkdirTyped(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError('IO_FAILED', code === 'ENOSPC' ? `the disk is full (creating ${dir})` : `cannot create ${dir}: ${code ?? (e as Error).message}`, { path: dir, errno: code }, { cause: e });
  }
}

/**
 * Waits for every one before acting on a failure (the first one's error is thrown): removing a job's
 * folder while a write into it is still on its way would let that write put the folder back.
 */
async function allOrFirstError(steps: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export class JobFiles {
  private readonly rootSync: SharedDirSync;

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.rootSync = new SharedDirSync(root);
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Writes the input and the request durably (files and folders synced) off the event loop. */
  async write(id: string, image: Uint8Array, request: JobRequest): Promise<string> {
    const dir = this.dir(id);
    const input = join(dir, 'input.bin');
    try {
      await mkdirTyped(dir);
      // The folder's own name is durable once the jobs root is synced, and that sync may begin as soon as
      // the folder exists: it runs while the files are written (one fsync round fewer before the 202;
      // each round cost 15-60 ms in a burst, more on a busy disk: docs/benchmarks.md "submit path").
      const rootSynced = this.rootSync.sync();
      // Both files at once: their fsyncs overlap instead of running one after the other; the folder sync
      // (which makes their renamed names durable) waits for both.
      const filesSynced = allOrFirstError([writeFileAtomicAsync(input, image), writeFileAtomicAsync(join(dir, 'request.json'), JSON.stringify(request))]).then(() => fsyncDirAsync(dir));
      await allOrFirstError([filesSynced, rootSynced]);
    } catch (e) {
      // No half-written job folder: a restart must not find an input without its request.
      this.remove(id);
      throw e;
    }
    return input;
  }

  /** Writes final.json atomically and syncs the folder (which also makes result files renamed there durable). */
  writeFinal(id: string, record: FinalRecord): void {
    writeFileAtomic(join(this.dir(id), 'final.json'), JSON.stringify(record));
    fsyncDir(this.dir(id));
  }

  readFinal(id: string): FinalRecord | null {
    try {
      const r = JSON.parse(readFileSync(join(this.dir(id), 'final.json'), 'utf8')) as FinalRecord;
      return ['done', 'failed', 'cancelled'].includes(r.state) ? r : null;
    } catch {
      return null;
    }
  }

  /**
   * Removes what interrupted writes left: job folders with no database row (`hasRow` false: a submit
   * killed between writing its files and inserting its row, or a job whose row retention purged) and
   * `*.tmp` files of atomic writes that never got renamed. Run at start, before anything is accepted.
   */
  removeLeftovers(hasRow: (id: string) => boolean): { folders: number; tempFiles: number } {
    let folders = 0;
    let tempFiles = 0;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      const path = join(this.root, entry.name);
      if (!entry.isDirectory()) {
        if (entry.name.endsWith('.tmp')) {
          rmSync(path, { force: true });
          tempFiles++;
        }
        continue;
      }
      if (!JOB_ID.test(entry.name)) continue;
      if (!hasRow(entry.name)) {
        rmSync(path, { recursive: true, force: true });
        folders++;
        continue;
      }
      for (const f of readdirSync(path)) {
        if (!f.endsWith('.tmp')) continue;
        rmSync(join(path, f), { force: true });
        tempFiles++;
      }
    }
    if (folders) fsyncDir(this.root);
    return { folders, tempFiles };
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
