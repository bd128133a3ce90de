/**
 * x_T from DDIM inversion, kept on disk per (model, hash of the preprocessed image, steps), so a re-edit
 * of the same image (weaker, stronger, another direction) skips the inversion half of the work. Size is
 * capped; the least recently used entries go first. Entries are written on libuv's thread pool, one at a
 * time, and served from memory until written: a batch whose inversions end together caches 16 entries,
 * and writing and fsyncing them on the event loop held the HTTP API for half a second (docs/benchmarks.md).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, utimesSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomicAsync } from './atomic-file.js';

export class InversionCache {
  hits = 0;
  misses = 0;
  /** Entries put and not yet on disk. */
  private readonly unwritten = new Map<string, Float32Array>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  static key(modelId: string, imageHash: string, steps: number, refinement = 0): string {
    // A different refinement gives a different x_T; 0 keeps the keys written before it existed.
    const what = refinement ? `${modelId}\0${imageHash}\0${steps}\0r${refinement}` : `${modelId}\0${imageHash}\0${steps}`;
    return createHash('sha256').update(what).digest('hex').slice(0, 40);
  }

  get(key: string, length: number): Float32Array | null {
    const held = this.unwritten.get(key);
    if (held && held.length === length) {
      this.hits++;
      return held.slice();
    }
    const file = join(this.dir, `${key}.f32`);
    if (!existsSync(file)) {
      this.misses++;
      return null;
    }
    try {
      const bytes = readFileSync(file);
      if (bytes.length !== length * 4) throw new Error('size mismatch');
      const now = new Date();
      utimesSync(file, now, now); // mtime is the LRU clock
      this.hits++;
      return new Float32Array(new Uint8Array(bytes).buffer);
    } catch {
      this.misses++;
      return null;
    }
  }

  /**
   * Caches x_T (a copy: the caller may go on using its array). Resolves once it is on disk, never
   * rejects: a cache that cannot be written (full disk) only costs time, the edit itself goes on.
   */
  put(key: string, xT: Float32Array): Promise<void> {
    const copy = xT.slice();
    this.unwritten.set(key, copy);
    this.writes = this.writes.then(async () => {
      try {
        await writeFileAtomicAsync(join(this.dir, `${key}.f32`), new Uint8Array(copy.buffer));
        await this.evict();
      } catch {
        /* ignored on purpose */
      } finally {
        if (this.unwritten.get(key) === copy) this.unwritten.delete(key);
      }
    });
    return this.writes;
  }

  /** Resolves once every entry put so far is written. */
  flushed(): Promise<void> {
    return this.writes;
  }

  private async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((f) => f.endsWith('.f32'));
    const entries: { f: string; size: number; mtime: number }[] = [];
    for (const f of names) {
      try {
        const s = await stat(join(this.dir, f));
        entries.push({ f, size: s.size, mtime: s.mtimeMs });
      } catch {
        // Gone since the listing.
      }
    }
    entries.sort((a, b) => b.mtime - a.mtime);
    let total = 0;
    for (const e of entries) {
      total += e.size;
      if (total > this.maxBytes) await unlink(join(this.dir, e.f)).catch(() => undefined);
    }
  }

  /** Removes temp files of writes a crash interrupted (at start, before any write of this process). */
  removeTempFiles(): number {
    let n = 0;
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.tmp')) continue;
      unlinkSync(join(this.dir, f));
      n++;
    }
    return n;
  }

  hitRate(): number {
    const n = this.hits + this.misses;
    return n ? this.hits / n : 0;
  }
}
