/**
 * The logger of the long-running commands (engine, discord, slack, start): the configured level, every
 * configured secret cut from every line, JSON lines on a pipe or a file, readable lines on a terminal.
 * Commands that answer a person (edit, eval, models, ...) write to ctx.out/ctx.err directly instead.
 */
import type { CliContext } from './cli-context.js';
import { createLogger, type Logger } from '../log/logger.js';

export function appLogger(ctx: CliContext, component: string): Logger {
  return createLogger({
    level: ctx.config.logLevel,
    secrets: Object.values(ctx.secrets),
    destination: ctx.err,
    bindings: { component },
  });
}
