import { describe, expect, it } from 'vitest';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { FairQueue } from '../../src/engine/service/fair-queue.js';
import { InversionCache } from '../../src/engine/service/inversion-cache.js';
import { tempDir } from '../helpers/paths.js';

describe('FairQueue', () => {
  it('serves owners round robin and positions jobs accordingly', () => {
    const q = new FairQueue<{ id: string; owner: string }>();
    for (let i = 0; i < 3; i++) q.push({ id: `a${i}`, owner: 'a' });
    q.push({ id: 'b0', owner: 'b' });
    q.push({ id: 'c0', owner: 'c' });
    expect(q.position('b0')).toBe(2);
    expect(q.position('a2')).toBe(5);
    const order = [];
    for (let item = q.shift(); item; item = q.shift()) order.push(item.id);
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'a2']);
  });

  it('computes every position as the service order gives it, after pushes, shifts and removals', () => {
    const q = new FairQueue<{ id: string; owner: string }>();
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 300; i++) {
      const op = next(10);
      if (op < 6) q.push({ id: `j${i}`, owner: `o${next(6)}` });
      else if (op < 8) q.shift((x) => x.owner !== `o${next(6)}`);
      else q.remove(q.order()[next(Math.max(1, q.size))]?.id ?? '');
      const order = q.order();
      for (const [i, item] of order.entries()) expect(q.position(item.id)).toBe(i + 1);
      for (let o = 0; o < 6; o++) expect(q.positionsFor(`o${o}`)).toEqual(order.flatMap((x, i) => (x.owner === `o${o}` ? [i + 1] : [])));
    }
    expect(q.position('nowhere')).toBe(0);
  });

  it('skips owners that are not eligible and removes jobs', () => {
    const q = new FairQueue<{ id: string; owner: string }>();
    q.push({ id: 'a0', owner: 'a' });
    q.push({ id: 'b0', owner: 'b' });
    expect(q.shift((x) => x.owner !== 'a')?.id).toBe('b0');
    expect(q.remove('a0')?.id).toBe('a0');
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});

describe('InversionCache', () => {
  it('keeps x_T by key, refreshes on use, and evicts the least recently used beyond its size', async () => {
    const dir = tempDir('asyrp-cache-');
    const cache = new InversionCache(dir, 2 * 4 * 100);
    const v = (x: number) => new Float32Array(100).fill(x);
    const k = (n: string) => InversionCache.key('m', n, 40);
    await cache.put(k('a'), v(1));
    utimesSync(join(dir, `${k('a')}.f32`), new Date(1000), new Date(1000));
    await cache.put(k('b'), v(2));
    utimesSync(join(dir, `${k('b')}.f32`), new Date(2000), new Date(2000));
    expect(cache.get(k('a'), 100)?.[0]).toBe(1); // a is now the most recent
    await cache.put(k('c'), v(3));
    expect(cache.get(k('b'), 100)).toBeNull();
    expect(cache.get(k('a'), 100)?.[0]).toBe(1);
    expect(cache.get(k('c'), 100)?.[0]).toBe(3);
    expect(cache.get(k('a'), 99)).toBeNull(); // a size mismatch is a miss, not garbage
    expect(InversionCache.key('m', 'a', 40)).not.toBe(InversionCache.key('m', 'a', 50));
    expect(cache.hits).toBe(3);
  });

  it('serves an entry from memory until it is on disk, from its own copy', async () => {
    const dir = tempDir('asyrp-cache-');
    const cache = new InversionCache(dir, 1_000_000);
    const key = InversionCache.key('m', 'x', 40);
    const xT = new Float32Array(100).fill(5);
    const written = cache.put(key, xT);
    xT.fill(0); // the caller goes on with its array
    expect(cache.get(key, 100)?.[0]).toBe(5);
    await written;
    expect(existsSync(join(dir, `${key}.f32`))).toBe(true);
    expect(cache.get(key, 100)?.[0]).toBe(5);
    expect(cache.hits).toBe(2);
  });
});
