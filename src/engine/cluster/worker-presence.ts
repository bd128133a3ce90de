/**
 * A worker's registration: the hash `worker:<id>` (contract.ts, WorkerRegistration), refreshed every
 * heartbeat and expiring after three missed ones, so API nodes list the models of live workers only and
 * a worker killed with -9 drops out by itself.
 */
import type { Redis } from 'ioredis';
import type { ModelInfo } from '../client/api-types.js';
import type { Logger } from '../../log/logger.js';
import { clusterKeys } from './contract.js';

export interface PresenceInfo {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly models: readonly ModelInfo[];
  readonly slots: number;
}

export class WorkerPresence {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly heartbeatMs: number,
    private readonly info: PresenceInfo,
    /** Batch slots taken now. */
    private readonly busy: () => number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      // A missed beat is logged; three in a row and API nodes stop counting this worker.
      this.beat().catch((e: unknown) => this.log.warn('worker heartbeat failed', { err: e }));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const key = clusterKeys.worker(this.prefix, this.info.workerId);
    await this.redis
      .multi()
      .hset(key, {
        workerId: this.info.workerId,
        host: this.info.host,
        pid: String(this.info.pid),
        models: JSON.stringify(this.info.models),
        slots: String(this.info.slots),
        busy: String(this.busy()),
        startedAt: String(this.startedAt),
        at: String(Date.now()),
      })
      .pexpire(key, 3 * this.heartbeatMs)
      .exec();
  }

  /** Unregisters at once (a clean stop), rather than letting the entry expire. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.redis.del(clusterKeys.worker(this.prefix, this.info.workerId));
  }
}
