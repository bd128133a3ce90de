/**
 * `asyrp edit` as a real process (the CLI entry with top-level await, as bin/asyrp.js runs it): it must
 * exit 0 after an edit through the inference worker. In-process runCli tests cannot see this: an idle
 * worker is unref'd, and a close() awaited without holding the event loop ended the process with Node's
 * "unsettled top-level await" code 13 after the result was written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';

describe('asyrp edit as a process', () => {
  it('exits 0 once the edit is written, with inference in the worker', () => {
    const dir = tempDir('asyrp-edit-process-');
    const out = join(dir, 'out.png');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/cli-entry.ts'), 'edit', join(repoRoot, 'models/toyfaces-32/samples/face-1.png'), 'smile', 'steps:4', '-o', out], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ASYRP_INFERENCE: 'worker' },
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(existsSync(out)).toBe(true);
  }, 60_000);
});
