/**
 * Cancellation of running cluster jobs. The API sets `cancel:<id>` and publishes the id on the cancel
 * channel; every worker hears it, and the one running the job cancels its local copy. The key covers a
 * cancel that came before the worker started listening for that job.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../log/logger.js';
import { clusterKeys } from './contract.js';

export interface CancelHandle {
  /** Calls `fn` once the job is to be cancelled (at once if it already is). */
  onCancel(fn: () => void): void;
  /** Whether a cancel was asked for, by message or by the key (read now). */
  requested(): Promise<boolean>;
  release(): void;
}

export class CancelWatch {
  private readonly watched = new Map<string, { asked: boolean; fn: (() => void) | null }>();

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Subscribes to the cancel channel (the subscriber connection does nothing else afterwards). */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, id: string) => this.ask(id));
    await this.subscriber.subscribe(clusterKeys.cancelChannel(this.prefix));
  }

  watch(jobId: string): CancelHandle {
    const entry = { asked: false, fn: null as (() => void) | null };
    this.watched.set(jobId, entry);
    return {
      onCancel: (fn) => {
        entry.fn = fn;
        if (entry.asked) fn();
      },
      requested: async () => entry.asked || (await this.redis.exists(clusterKeys.cancel(this.prefix, jobId))) === 1,
      release: () => {
        if (this.watched.get(jobId) === entry) this.watched.delete(jobId);
      },
    };
  }

  private ask(jobId: string): void {
    const entry = this.watched.get(jobId);
    if (!entry || entry.asked) return;
    entry.asked = true;
    this.log.info('cancel asked', { job: jobId });
    entry.fn?.();
  }
}
