import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const testModels = join(repoRoot, 'test', 'models');
export const engineFixtures = join(repoRoot, 'test', 'fixtures', 'engine');
/** ../shared/fixtures beside the checkout (never copied into the repo). */
export const sharedFixtures = resolve(repoRoot, '..', 'shared', 'fixtures');
export const hasSharedFixtures = existsSync(sharedFixtures);

/**
 * Whether a fixture under ../shared/fixtures is there. On a developer machine without it, the tests that
 * need it are skipped with a warning; under CI (CI=true) a missing fixture fails the test file instead, so
 * a broken fixture mount cannot turn into a green run that tested nothing.
 */
export function sharedFixturePresent(path: string, what: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true and the shared fixture ${path} is missing (${what} cannot run)`);
  console.warn(`${what} skipped: fixture ${path} is missing`);
  return false;
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function tempDir(prefix = 'asyrp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
