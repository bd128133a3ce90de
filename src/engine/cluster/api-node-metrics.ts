/**
 * Prometheus metrics of an API node: the queue depth of every model queue and the live workers, read from
 * Redis at scrape time (so every API node reports the same cluster-wide view), and this node's submits.
 * The names (docs/scaling.md, What to monitor) sit next to the single engine's asyrp_* metrics.
 */
import { MetricSet } from '../service/metrics.js';
import type { ClusterQueues } from './cluster-queues.js';
import type { ProgressRelay } from './progress-relay.js';
import type { WorkerDirectory } from './worker-directory.js';

const SUBMIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface ApiNodeMetricSources {
  readonly queues: ClusterQueues;
  readonly directory: WorkerDirectory;
  readonly relay: ProgressRelay;
}

export class ApiNodeMetrics {
  private readonly set = new MetricSet();
  private readonly submits: { inc(n?: number): void };
  private readonly submitSeconds: { observe(v: number): void };

  constructor(src: ApiNodeMetricSources) {
    // One read of the queues per scrape, shared by the gauges that need it.
    let scrape: Promise<{ model: string; queued: number; active: number }[]> | null = null;
    const counts = () => {
      scrape ??= (async () => {
        const served = (await src.directory.models(null)).map((m) => m.id);
        const models = await src.queues.models(served);
        return Promise.all(models.map(async (model) => ({ model, ...(await src.queues.counts(model)) })));
      })().finally(() => setTimeout(() => (scrape = null), 0));
      return scrape;
    };
    this.set.gauge('asyrp_queue_depth', 'Jobs waiting, over every model queue.', [], async () => [{ value: (await counts()).reduce((n, c) => n + c.queued, 0) }]);
    this.set.gauge('asyrp_cluster_queue_depth', 'Jobs waiting in a model queue.', ['model'], async () => (await counts()).map((c) => ({ labels: { model: c.model }, value: c.queued })));
    this.set.gauge('asyrp_cluster_jobs_active', 'Jobs a worker is running, per model queue.', ['model'], async () => (await counts()).map((c) => ({ labels: { model: c.model }, value: c.active })));
    this.set.gauge('asyrp_cluster_workers', 'Live workers (their registration has not expired).', [], async () => [{ value: (await src.directory.list()).length }]);
    this.set.gauge('asyrp_cluster_worker_heartbeat_age_seconds', 'Seconds since each live worker last refreshed its registration.', ['worker', 'host'], async () =>
      (await src.directory.list()).map((w) => ({ labels: { worker: w.workerId, host: w.host }, value: Math.max(0, (Date.now() - w.at) / 1000) })),
    );
    this.set.gauge('asyrp_cluster_worker_slots', 'Batch slots of each live worker, by busy or free.', ['worker', 'state'], async () =>
      (await src.directory.list()).flatMap((w) => [
        { labels: { worker: w.workerId, state: 'busy' }, value: w.busy },
        { labels: { worker: w.workerId, state: 'free' }, value: Math.max(0, w.slots - w.busy) },
      ]),
    );
    this.set.gauge('asyrp_cluster_model_workers', 'Live workers serving each model.', ['model'], async () => {
      const n = new Map<string, number>();
      for (const w of await src.directory.list()) for (const m of w.models) n.set(m.id, (n.get(m.id) ?? 0) + 1);
      return [...n].map(([model, value]) => ({ labels: { model }, value }));
    });
    this.set.gauge('asyrp_cluster_event_streams', 'Jobs with an event-stream listener on this API node.', [], async () => [{ value: src.relay.watched }]);
    this.submits = this.set.counter('asyrp_jobs_submitted_total', 'Jobs accepted by this API node.');
    this.submitSeconds = this.set.histogram('asyrp_cluster_submit_seconds', 'Time this API node took to accept a job (checks, input upload, queue add).', SUBMIT_BUCKETS);
  }

  submitted(seconds: number): void {
    this.submits.inc();
    this.submitSeconds.observe(seconds);
  }

  get contentType(): string {
    return this.set.contentType;
  }

  render(): Promise<string> {
    return this.set.render();
  }
}
