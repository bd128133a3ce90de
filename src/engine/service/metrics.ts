/** Prometheus text-format metrics for the engine service (queue depth, jobs, step latency, batches, cache). */
export class EngineMetrics {
  jobsFinished: Record<'done' | 'failed' | 'cancelled', number> = { done: 0, failed: 0, cancelled: 0 };
  jobsSubmitted = 0;
  steps = 0;
  stepSecondsSum = 0;
  samplesSum = 0;
  private readonly stepBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  private readonly stepCounts = new Array<number>(this.stepBuckets.length).fill(0);

  observeStep(seconds: number, batch: number): void {
    this.steps++;
    this.stepSecondsSum += seconds;
    this.samplesSum += batch;
    this.stepBuckets.forEach((b, i) => {
      if (seconds <= b) this.stepCounts[i]!++;
    });
  }

  render(gauges: { queued: number; running: number; cacheHits: number; cacheMisses: number }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, rows: string[]) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
    metric('asyrp_queue_depth', 'gauge', 'Jobs waiting in the queue.', [`asyrp_queue_depth ${gauges.queued}`]);
    metric('asyrp_jobs', 'gauge', 'Jobs by state (running, queued) in this process.', [`asyrp_jobs{state="queued"} ${gauges.queued}`, `asyrp_jobs{state="running"} ${gauges.running}`]);
    metric('asyrp_jobs_submitted_total', 'counter', 'Jobs accepted.', [`asyrp_jobs_submitted_total ${this.jobsSubmitted}`]);
    metric(
      'asyrp_jobs_finished_total',
      'counter',
      'Jobs finished, by final state.',
      Object.entries(this.jobsFinished).map(([s, n]) => `asyrp_jobs_finished_total{state="${s}"} ${n}`),
    );
    let cum = 0;
    const bucketRows = this.stepBuckets.map((b, i) => {
      cum = this.stepCounts[i]!;
      return `asyrp_step_seconds_bucket{le="${b}"} ${cum}`;
    });
    metric('asyrp_step_seconds', 'histogram', 'Latency of one batched UNet step.', [
      ...bucketRows,
      `asyrp_step_seconds_bucket{le="+Inf"} ${this.steps}`,
      `asyrp_step_seconds_sum ${this.stepSecondsSum}`,
      `asyrp_step_seconds_count ${this.steps}`,
    ]);
    metric('asyrp_batch_size_mean', 'gauge', 'Mean samples per UNet call.', [`asyrp_batch_size_mean ${this.steps ? this.samplesSum / this.steps : 0}`]);
    const n = gauges.cacheHits + gauges.cacheMisses;
    metric('asyrp_inversion_cache_hit_ratio', 'gauge', 'Share of jobs whose inversion came from the cache.', [`asyrp_inversion_cache_hit_ratio ${n ? gauges.cacheHits / n : 0}`]);
    metric('asyrp_inversion_cache_hits_total', 'counter', 'Inversion cache hits.', [`asyrp_inversion_cache_hits_total ${gauges.cacheHits}`]);
    return lines.join('\n') + '\n';
  }
}
