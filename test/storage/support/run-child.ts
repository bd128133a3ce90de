/** Starts storage-child.ts in its own Node process (see register-ts.mjs for how it runs TypeScript). */
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { fork, spawn } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./storage-child.ts', import.meta.url));
const register = fileURLToPath(new URL('./register-ts.mjs', import.meta.url));

/**
 * `launcher`, when given, is a command line the child's Node runs under (e.g. setpriv dropping
 * capabilities); it execs Node in place, so the IPC channel and the pipes stay the same.
 */
export function startChild(args: string[], launcher: string[] = []): { proc: ChildProcess; lines: () => Record<string, unknown>[]; exited: Promise<number | null> } {
  // execArgv replaces vitest's own flags: the child is a plain Node process with our TS hooks.
  const stdio: ForkOptions['stdio'] = ['ignore', 'pipe', 'pipe', 'ipc'];
  const proc = launcher.length > 0
    ? spawn(launcher[0]!, [...launcher.slice(1), process.execPath, '--import', register, child, ...args], { stdio })
    : fork(child, args, { execArgv: ['--import', register], stdio });
  const received: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) if (line.trim()) received.push(JSON.parse(line) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    // 'close', not 'exit': it fires only after stdout is drained, so no report line is lost.
    proc.on('close', (code) => {
      if (code !== 0 && code !== null && stderr) process.stderr.write(`storage-child stderr:\n${stderr}\n`);
      resolve(code);
    }),
  );
  return { proc, lines: () => received, exited };
}

/** Polls until `pred` holds (child processes report asynchronously). */
export async function until(pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for the child process');
    await new Promise((r) => setTimeout(r, 20));
  }
}
