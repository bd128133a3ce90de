/**
 * `asyrp engine`: the engine process (models loaded once, HTTP API on engine.host:engine.port, the
 * worker). SIGTERM or Ctrl-C stops intake and drains running jobs for engine.drainMs before exiting.
 */
import type { CliContext } from '../cli-context.js';
import { appLogger } from '../app-logger.js';
import { parseArgs } from '../parse-args.js';
import { ENGINE } from '../command-specs.js';
import { reportEngineError } from '../report-error.js';
import { stopRequested } from '../stop-signal.js';
import { startEngineServer, type EngineServer } from '../../engine/service/start-engine-server.js';
import { isStorageError } from '../../storage/index.js';

let rejectionsLogged = false;

export async function startEngineForCli(ctx: CliContext): Promise<EngineServer> {
  const log = appLogger(ctx, 'engine');
  if (!rejectionsLogged) {
    rejectionsLogged = true;
    // The worker and the HTTP handlers catch their own errors; a rejection that still escapes is a bug to
    // see in the log with its stack, not a silent crash that would drop every running job at once.
    process.on('unhandledRejection', (reason) => log.error('unhandled rejection (the engine goes on)', { err: reason }));
  }
  return startEngineServer(ctx.config, { log, token: ctx.secrets.engineToken });
}

export async function engineCommand(argv: string[], ctx: CliContext): Promise<number> {
  parseArgs(argv, ENGINE.flags);
  let server: EngineServer;
  try {
    server = await startEngineForCli(ctx);
  } catch (e) {
    if (isStorageError(e)) {
      ctx.err.write(`asyrp engine: ${e.message}\n`);
      return 1;
    }
    return reportEngineError(ctx, 'engine', e);
  }
  const signal = await stopRequested();
  appLogger(ctx, 'engine').info(`${signal}: draining running jobs (up to ${Math.round(ctx.config.engine.drainMs / 1000)} s)`);
  await server.drain();
  return 0;
}
