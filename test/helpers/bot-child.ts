/**
 * A bot as a real child process: `asyrp discord` or `asyrp slack` through the CLI entry on the
 * TypeScript sources, with its configuration in the environment, for shutdown and restart tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface BotChild {
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (its log). */
  log(): string;
  /** Sends SIGTERM; resolves with the exit code and how long the exit took. */
  terminate(): Promise<{ code: number | null; ms: number }>;
}

/** nodeArgs: extra Node flags for the child (e.g. --cpu-prof, which NODE_OPTIONS does not accept). */
export async function startBotChild(command: 'discord' | 'slack', env: Record<string, string>, ready: RegExp, timeoutMs = 30_000, nodeArgs: readonly string[] = []): Promise<BotChild> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(repoRoot, 'test/helpers/cli-entry.ts'), command], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ASYRP_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`asyrp ${command} did not get ready in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`asyrp ${command} exited with ${code} before it was ready: ${stderr}`));
    });
  });
  return {
    child,
    log: () => stderr,
    terminate: async () => {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: Date.now() - t0 };
    },
  };
}
