/**
 * The engine in a child process (test/helpers/engine-child.ts) for crash tests: start it, read what its
 * start found, collect its log, kill it without warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import type { StartReport } from '../../src/engine/service/engine-service.js';
import { repoRoot } from './paths.js';

export interface EngineProcess {
  readonly child: ChildProcess;
  readonly client: EngineClient;
  readonly started: StartReport;
  /** Everything the child logged so far. */
  readonly log: () => string;
}

const children: ChildProcess[] = [];

/** For afterEach: kills what a failed test left running. */
export function killEngineProcesses(): void {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
}

export async function startEngineProcess(dataDir: string, engine: Record<string, unknown>, faults: Record<string, unknown> = {}): Promise<EngineProcess> {
  const args = ['--import', 'tsx', join(repoRoot, 'test/helpers/engine-child.ts'), dataDir, JSON.stringify(engine), JSON.stringify(faults)];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`engine child exited with ${code}: ${log}`)));
  });
  const { url, started } = JSON.parse(line) as { url: string; started: StartReport };
  return { child, client: new EngineClient({ baseUrl: url }), started, log: () => log };
}

export async function kill9(p: EngineProcess): Promise<void> {
  p.child.kill('SIGKILL');
  if (p.child.exitCode === null && p.child.signalCode === null) await new Promise((r) => p.child.once('exit', r));
}

/** Polls until `test` holds (for something that must happen, never to show that something did not). */
export async function until(what: string, test: () => Promise<boolean> | boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
