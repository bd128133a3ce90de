import { loadConfig } from '../../src/config/load-config.js';
import { dispatch } from '../../src/cli/main.js';
import { repoRoot } from './paths.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs an `asyrp` command in-process with captured output and config overrides. */
export async function runCli(argv: string[], opts: { cwd: string; overrides?: Record<string, unknown> }): Promise<CliRun> {
  let out = '';
  let err = '';
  const config = loadConfig({ root: repoRoot, env: {}, overrides: opts.overrides ?? {} });
  const code = await dispatch(argv, {
    config,
    cwd: opts.cwd,
    out: { write: (t) => void (out += t), isTTY: false },
    err: { write: (t) => void (err += t), isTTY: false },
  });
  return { code, out, err };
}
