/**
 * A job's files (data/jobs/): its input image (<id>.input), written and fsynced before the submit is
 * answered so that a restart can run the job again, and its folder (<id>/) with the results and
 * final.json once it ends. The request is not a file: it is kept in the job's database row, committed
 * after the input is durable (jobs submitted before that have request.json and input.bin in the folder,
 * still read). One fsync per submit for the input, and one of the jobs root shared by every submit of a
 * burst (docs/benchmarks.md, "Inference worker").
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { fsyncDir, fsyncDirAsync, SharedDirSync, writeFileAtomicAsync, writeSynced } from './atomic-file.js';
import type { JobRequest, Settlement } from './job.js';
import type { ResultVariant } from '../client/api-types.js';

/** A job's durable final record (final.json): once written, a restart never runs the job again. */
export interface FinalRecord extends Settlement {
  readonly results: ResultVariant[];
}

/** Job folders are named by UUID; nothing else under the jobs root is ours to remove. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A job's input beside the folders: <uuid>.input. */
const INPUT_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.input$/;

/** A failed write or mkdir, typed (a full disk: IO_FAILED, 507, "the disk is full"). */
function ioFailed(e: unknown, path: string, doing: 'writing' | 'creating'): EngineError {
  const code = (e as NodeJS.ErrnoException).code;
  return new EngineError('IO_FAILED', code === 'ENOSPC' ? `the disk is full (${doing} ${path})` : `cannot ${doing === 'writing' ? 'write' : 'create'} ${path}: ${code ?? (e as Error).message}`, { path, errno: code }, { cause: e });
}

/** mkdir on libuv's pool, its failure typed. */
async function mkdirTyped(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioFailed(e, dir, 'creating');
  }
}

export class JobFiles {
  private readonly rootSync: SharedDirSync;
  /** Job folders made here whose name the jobs root's sync has made durable (ensureDir). */
  private readonly durableDirs = new Set<string>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.rootSync = new SharedDirSync(root);
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Where a job's input lies: beside the folders, so one sync of the jobs root makes every new name durable. */
  inputPath(id: string): string {
    return join(this.root, `${id}.input`);
  }

  /**
   * Writes a job's input durably off the event loop: the file's bytes fsynced, then its name, by a sync
   * of the jobs root shared with every other submit asking meanwhile (SharedDirSync). No temp file and
   * rename: the row that makes the job exist is committed only after this resolves, and a file a crash
   * left without a row is removed at the next start (removeLeftovers).
   */
  async writeInput(id: string, image: Uint8Array): Promise<string> {
    const path = this.inputPath(id);
    try {
      await writeSynced(path, image, 'wx');
    } catch (e) {
      await rm(path, { force: true });
      throw ioFailed(e, path, 'writing');
    }
    try {
      await this.rootSync.sync();
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
    return path;
  }

  /**
   * Creates the job's folder for its results and makes its name durable (a shared sync of the jobs root)
   * before they are written: final.json in a folder a power cut could lose would let a finished job run
   * again.
   */
  async ensureDir(id: string): Promise<void> {
    if (this.durableDirs.has(id)) return;
    await mkdirTyped(this.dir(id));
    await this.rootSync.sync();
    this.durableDirs.add(id);
  }

  /**
   * Writes final.json atomically and syncs the folder (which also makes result files renamed there
   * durable) and, unless ensureDir already did, the jobs root that holds the folder's name (a job that
   * ends before it starts, cancelled while queued, gets its folder here). Every step on libuv's pool: a
   * batch of 16 jobs ending together is 32-48 fsyncs, which on the event loop held the HTTP API ~0.2 s
   * of a 2.5 s burst (a CPU profile of bench load).
   */
  async writeFinal(id: string, record: FinalRecord): Promise<void> {
    await writeFileAtomicAsync(join(this.dir(id), 'final.json'), JSON.stringify(record));
    await fsyncDirAsync(this.dir(id));
    if (!this.durableDirs.has(id)) {
      await this.rootSync.sync();
      this.durableDirs.add(id);
    }
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
   * Removes what interrupted writes left: inputs and job folders with no database row (`hasRow` false:
   * a submit killed between writing its input and committing its row, or a job whose row retention
   * purged) and `*.tmp` files of atomic writes that never got renamed. Run at start, before anything is
   * accepted. `folders` counts both the folders and the inputs removed.
   */
  removeLeftovers(hasRow: (id: string) => boolean): { folders: number; tempFiles: number } {
    let folders = 0;
    let tempFiles = 0;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      const path = join(this.root, entry.name);
      if (!entry.isDirectory()) {
        const input = INPUT_FILE.exec(entry.name);
        if (input && !hasRow(input[1]!)) {
          rmSync(path, { force: true });
          folders++;
        } else if (entry.name.endsWith('.tmp')) {
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
    rmSync(this.inputPath(id), { force: true });
    this.durableDirs.delete(id);
  }

  /**
   * A job's request: the row's (`stored`, JSON), or for a job submitted before requests were kept in
   * the row, its folder's request.json; null when neither can be read.
   */
  request(id: string, stored: string | null): JobRequest | null {
    if (stored === null) return this.readLegacyRequest(id);
    try {
      return JSON.parse(stored) as JobRequest;
    } catch {
      return null;
    }
  }

  /** request.json of a job submitted before requests were kept in the row, or null when the folder is incomplete. */
  private readLegacyRequest(id: string): JobRequest | null {
    const file = join(this.dir(id), 'request.json');
    if (!existsSync(file) || !existsSync(join(this.dir(id), 'input.bin'))) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as JobRequest;
    } catch {
      return null;
    }
  }

  /** The input (<id>.input, or the folder's input.bin for a job submitted before it moved there). */
  readInput(id: string): Buffer {
    try {
      return readFileSync(this.inputPath(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(join(this.dir(id), 'input.bin'))) return this.readLegacyInput(id);
      throw new EngineError('IO_FAILED', `the input of job ${id} is missing (${(e as NodeJS.ErrnoException).code})`);
    }
  }

  private readLegacyInput(id: string): Buffer {
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
