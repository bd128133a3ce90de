/** Writes that are all-or-nothing: a killed process leaves the old file or the new one, never half. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
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

/**
 * Writes a file and fsyncs its bytes on libuv's thread pool; `flags` 'wx' refuses an existing file. Its name
 * is not synced: the caller renames it into place or syncs the folder.
 */
export async function writeSynced(path: string, data: Uint8Array | string, flags: 'w' | 'wx'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The same, with every step (the write, both fsyncs, the rename) on libuv's thread pool: a submit's
 * input is made durable without stopping the event loop (an fsync took 20-50 ms on a busy VM, and a
 * burst of submits would otherwise hold the HTTP API for seconds; docs/benchmarks.md).
 */
export async function writeFileAtomicAsync(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeSynced(tmp, data, 'w');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError('IO_FAILED', code === 'ENOSPC' ? `the disk is full (writing ${path})` : `cannot write ${path}: ${code ?? (e as Error).message}`, { path, errno: code }, { cause: e });
  }
}

/** fsyncDir on libuv's thread pool. */
export async function fsyncDirAsync(path: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'EISDIR') return;
    throw new EngineError('IO_FAILED', `cannot sync the folder ${path}: ${code ?? (e as Error).message}`, { path, errno: code }, { cause: e });
  } finally {
    await fh?.close();
  }
}

/**
 * fsyncDirAsync shared by everyone who asks while one is on the way: a caller waits for a sync that
 * began after it asked (one in flight may have begun before its rename), and all who ask during one
 * sync share the next. A burst of submits renaming into one folder pays two fsyncs, not one each.
 */
export class SharedDirSync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly path: string) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<void> {
    this.next = null;
    const run = fsyncDirAsync(this.path);
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = null;
    };
    run.then(clear, clear);
    return run;
  }
}
