/** The CLI's edge: typed errors become one clear message and exit code 1; anything else is a bug. */
import type { CliContext } from './cli-context.js';
import { ConfigError } from '../config/config-error.js';
import { EngineError } from '../engine/errors.js';
import { InstallError } from '../models-install/install-error.js';

export function reportEngineError(ctx: CliContext, command: string, e: unknown): number {
  if (e instanceof EngineError || e instanceof ConfigError || e instanceof InstallError) {
    ctx.err.write(`asyrp ${command}: ${e.message}\n`);
    return 1;
  }
  throw e;
}
