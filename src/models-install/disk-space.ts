/** Free space where files will be written, found before a 455 MB download rather than after it. */
import { statfs, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InstallError } from './install-error.js';
import { formatBytes } from './download-file.js';

/** The nearest existing folder at or above `path`. */
async function existing(path: string): Promise<string> {
  let p = path;
  for (;;) {
    try {
      await stat(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(await existing(path));
  return s.bavail * s.bsize;
}

export async function deviceOf(path: string): Promise<number> {
  return (await stat(await existing(path))).dev;
}

export interface SpaceNeed {
  readonly dir: string;
  readonly bytes: number;
  /** What the bytes are for ("455 MB download"). */
  readonly what: string;
}

/**
 * Fails with how much is needed and how much is free when the needs on one file system exceed its free
 * space (needs on the same device are added up).
 */
export async function ensureSpace(needs: readonly SpaceNeed[], free: (dir: string) => Promise<number> = freeBytes): Promise<void> {
  const byDevice = new Map<number, { dir: string; bytes: number; what: string[] }>();
  for (const n of needs) {
    if (n.bytes <= 0) continue;
    const dev = await deviceOf(n.dir);
    const g = byDevice.get(dev) ?? { dir: n.dir, bytes: 0, what: [] };
    g.bytes += n.bytes;
    g.what.push(`${formatBytes(n.bytes)} ${n.what}`);
    byDevice.set(dev, g);
  }
  for (const g of byDevice.values()) {
    const have = await free(g.dir);
    if (have < g.bytes) {
      throw new InstallError('NO_SPACE', `not enough disk space: this needs about ${formatBytes(g.bytes)} in ${g.dir} (${g.what.join(' + ')}) and ${formatBytes(have)} is free; free ${formatBytes(g.bytes - have)} or point modelsDir / dataDir elsewhere`, { need: g.bytes, free: have, dir: g.dir });
    }
  }
}
