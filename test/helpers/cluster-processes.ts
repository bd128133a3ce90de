/**
 * Start and kill the processes of a Redis scale-out (test/helpers/cluster-child.ts) from a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { repoRoot, tempDir } from './paths.js';

export interface ClusterChild {
  readonly role: 'api' | 'worker';
  readonly child: ChildProcess;
  readonly url: string;
  readonly workerId?: string;
  /** An engine client for an API node. */
  readonly client: EngineClient;
  readonly log: () => string;
}

const children: ChildProcess[] = [];

/** For afterAll: kills what a failed test left running. */
export function killClusterChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export async function startClusterChild(role: 'api' | 'worker', redisUrl: string, engine: Record<string, unknown>): Promise<ClusterChild> {
  const args = ['--import', 'tsx', join(repoRoot, 'test/helpers/cluster-child.ts'), role, redisUrl, tempDir(`asyrp-${role}-`), JSON.stringify(engine)];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${role} child exited with ${code}: ${log}`)));
  });
  const { url, workerId } = JSON.parse(line) as { url: string; workerId?: string };
  return { role, child, url, ...(workerId ? { workerId } : {}), client: new EngineClient({ baseUrl: url }), log: () => log };
}

function exited(c: ClusterChild): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => c.child.once('exit', () => r()));
}

export async function kill9(c: ClusterChild): Promise<void> {
  c.child.kill('SIGKILL');
  await exited(c);
}

export async function sigterm(c: ClusterChild): Promise<void> {
  c.child.kill('SIGTERM');
  await exited(c);
}

/** Samples a worker child is running now, from its own /v1/health. */
export async function workerBusy(w: ClusterChild): Promise<number> {
  return ((await (await fetch(`${w.url}/v1/health`)).json()) as { busy: number }).busy;
}
