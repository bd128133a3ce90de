/** Starts storage-child.ts in its own Node process (see register-ts.mjs for how it runs TypeScript). */
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./storage-child.ts', import.meta.url));
const register = fileURLToPath(new URL('./register-ts.mjs', import.meta.url));

export function startChild(args: string[], options: ForkOptions = {}): { proc: ChildProcess; lines: () => Record<string, unknown>[]; exited: Promise<number | null> } {
  // execArgv replaces vitest's own flags: the child is a plain Node process with our TS hooks.
  const proc = fork(child, args, { execArgv: ['--import', register], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options });
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
