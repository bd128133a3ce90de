/** A missing shared fixture skips its tests on a developer machine but fails the run under CI=true. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { sharedFixturePresent, tempDir } from '../helpers/paths.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('sharedFixturePresent', () => {
  it('is true for a folder that is there, under CI or not', () => {
    const dir = tempDir();
    vi.stubEnv('CI', 'true');
    expect(sharedFixturePresent(dir, 'x')).toBe(true);
  });

  it('skips with a warning naming the fixture when CI is not set', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const missing = join(tempDir(), 'not-here');
    expect(sharedFixturePresent(missing, 'the photo tests')).toBe(false);
    expect(warn).toHaveBeenCalledWith(`the photo tests skipped: fixture ${missing} is missing`);
  });

  it('throws under CI=true, so the test file fails instead of skipping', () => {
    vi.stubEnv('CI', 'true');
    const missing = join(tempDir(), 'not-here');
    expect(() => sharedFixturePresent(missing, 'the photo tests')).toThrow(`CI=true and the shared fixture ${missing} is missing (the photo tests cannot run)`);
  });
});
