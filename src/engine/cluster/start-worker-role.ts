/**
 * The worker role as the CLI starts it (`asyrp engine --role worker`, or beside an API node with
 * --role both): start-cluster-worker.ts, seen as the CLI holds any running engine.
 */
import type { AppConfig } from '../../config/load-config.js';
import type { Logger } from '../../log/logger.js';
import { startClusterWorker } from './start-cluster-worker.js';

export interface WorkerRoleOptions {
  readonly redisUrl: string;
  readonly token: string | null;
  readonly log: Logger;
  /** Its own health and metrics port on engine.host:engine.port (false when an API node runs beside it). */
  readonly withHttp: boolean;
}

export async function startClusterWorkerRole(config: AppConfig, opts: WorkerRoleOptions): Promise<{ readonly url: string; drain(): Promise<void> }> {
  const w = await startClusterWorker(config, { redisUrl: opts.redisUrl, token: opts.token, log: opts.log, withHttp: opts.withHttp });
  return { url: w.http?.url ?? '', drain: () => w.close() };
}
