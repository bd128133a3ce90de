/**
 * `asyrp engine`: the engine process. With engine.queue "local" (the default): models loaded once, the
 * HTTP API on engine.host:engine.port, the in-process queue. With "redis": the role chosen by --role or
 * engine.role (docs/scaling.md): an API node, a GPU worker, or both in one process. SIGTERM or Ctrl-C
 * stops intake and drains running jobs for engine.drainMs before exiting.
 */
import type { CliContext } from '../cli-context.js';
import { appLogger } from '../app-logger.js';
import { parseArgs } from '../parse-args.js';
import { ENGINE } from '../command-specs.js';
import { reportEngineError } from '../report-error.js';
import { stopRequested } from '../stop-signal.js';
import type { Logger } from '../../log/logger.js';
import { startEngineServer } from '../../engine/service/start-engine-server.js';
import { checkRedisReachable, chooseRole, requireRedisUrl } from '../../engine/cluster/cluster-config.js';
import { startClusterApi } from '../../engine/cluster/start-cluster-api.js';
import { startClusterWorkerRole } from '../../engine/cluster/start-worker-role.js';
import { isStorageError } from '../../storage/index.js';

/** What the CLI holds of a running engine, whatever its queue and role. */
export interface RunningEngine {
  readonly url: string;
  /** Stop intake, let running work finish (engine.drainMs), close. */
  drain(): Promise<void>;
}

let rejectionsLogged = false;

export async function startEngineForCli(ctx: CliContext, roleFlag?: string): Promise<RunningEngine> {
  const log = appLogger(ctx, 'engine');
  if (!rejectionsLogged) {
    rejectionsLogged = true;
    // The worker and the HTTP handlers catch their own errors; a rejection that still escapes is a bug to
    // see in the log with its stack, not a silent crash that would drop every running job at once.
    process.on('unhandledRejection', (reason) => log.error('unhandled rejection (the engine goes on)', { err: reason }));
  }
  const config = ctx.config;
  const role = chooseRole(config.engine.queue, config.engine.role, roleFlag);
  if (config.engine.queue === 'local') return startEngineServer(config, { log, token: ctx.secrets.engineToken });
  const redisUrl = requireRedisUrl(ctx.secrets.redisUrl);
  await checkRedisReachable(redisUrl);
  return startClusterRole(ctx, role, redisUrl, log);
}

async function startClusterRole(ctx: CliContext, role: 'api' | 'worker' | 'both', redisUrl: string, log: Logger): Promise<RunningEngine> {
  const token = ctx.secrets.engineToken;
  if (role === 'api') return startClusterApi(ctx.config, { redisUrl, token, log });
  if (role === 'worker') return startClusterWorkerRole(ctx.config, { redisUrl, token, log, withHttp: true });
  // both: the API on engine.port, the worker beside it without its own health port.
  const worker = await startClusterWorkerRole(ctx.config, { redisUrl, token, log, withHttp: false });
  try {
    const api = await startClusterApi(ctx.config, { redisUrl, token, log });
    return {
      url: api.url,
      drain: async () => {
        await api.drain();
        await worker.drain();
      },
    };
  } catch (e) {
    await worker.drain();
    throw e;
  }
}

export async function engineCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, ENGINE.flags);
  let server: RunningEngine;
  try {
    server = await startEngineForCli(ctx, typeof flags.role === 'string' ? flags.role : undefined);
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
