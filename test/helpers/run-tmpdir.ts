/**
 * vitest global set-up: every temporary folder of one test run (the test files' own, the engines, bots and
 * Python tools they start, which all take os.tmpdir()) goes under one folder made here, removed when the run
 * ends. Without it each run left a few thousand folders in /tmp (9.8 GB on the dev VM after a week), because
 * tests that kill processes, or fail half-way, cannot always clean up after themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'asyrp-run-'));
  // The forks and every process they spawn inherit the environment, and os.tmpdir() reads TMPDIR per call.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
