/**
 * x_T from DDIM inversion, kept on disk per (model, hash of the preprocessed image, steps), so a re-edit
 * of the same image (weaker, stronger, another direction) skips the inversion half of the work. Size is
 * capped; the least recently used entries go first.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from './atomic-file.js';

export class InversionCache {
  hits = 0;
  misses = 0;

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

  put(key: string, xT: Float32Array): void {
    // A cache that cannot be written (full disk) only costs time: the edit itself goes on.
    try {
      writeFileAtomic(join(this.dir, `${key}.f32`), new Uint8Array(xT.buffer, xT.byteOffset, xT.byteLength));
      this.evict();
    } catch {
      /* ignored on purpose */
    }
  }

  private evict(): void {
    const entries = readdirSync(this.dir)
      .filter((f) => f.endsWith('.f32'))
      .map((f) => {
        const s = statSync(join(this.dir, f));
        return { f, size: s.size, mtime: s.mtimeMs };
      })
      .sort((a, b) => b.mtime - a.mtime);
    let total = 0;
    for (const e of entries) {
      total += e.size;
      if (total > this.maxBytes) unlinkSync(join(this.dir, e.f));
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
