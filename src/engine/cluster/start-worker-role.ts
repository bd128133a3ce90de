/**
 * The worker role as the CLI starts it. The worker itself (models, BullMQ workers, registration) is
 * src/engine/cluster/start-cluster-worker.ts (issue #33, its worker half); until it is in this build the
 * role is refused with a ConfigError that says so, rather than starting something half made.
 */
import type { AppConfig } from '../../config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import type { Logger } from '../../log/logger.js';

export interface WorkerRoleOptions {
  readonly redisUrl: string;
  readonly token: string | null;
  readonly log: Logger;
  /** Its own health and metrics port on engine.host:engine.port (false when an API node runs beside it). */
  readonly withHttp: boolean;
}

export async function startClusterWorkerRole(_config: AppConfig, _opts: WorkerRoleOptions): Promise<{ readonly url: string; drain(): Promise<void> }> {
  throw new ConfigError('INVALID_VALUE', 'engine.role', 'the worker role is not in this build yet: run --role api here and the engine with ASYRP_QUEUE=local elsewhere');
}
