import { loadSettings } from '../../src/config/load-config.js';
import type { Secrets } from '../../src/config/secrets.js';
import { dispatch } from '../../src/cli/main.js';
import { repoRoot } from './paths.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs an `asyrp` command in-process with captured output, config overrides and secrets. */
export async function runCli(argv: string[], opts: { cwd: string; overrides?: Record<string, unknown>; secrets?: Partial<Secrets> }): Promise<CliRun> {
  let out = '';
  let err = '';
  const { config, secrets } = loadSettings({ root: repoRoot, env: {}, overrides: opts.overrides ?? {}, secrets: opts.secrets ?? {} });
  const code = await dispatch(argv, {
    config,
    secrets,
    cwd: opts.cwd,
    out: { write: (t) => void (out += t), isTTY: false },
    err: { write: (t) => void (err += t), isTTY: false },
  });
  return { code, out, err };
}
