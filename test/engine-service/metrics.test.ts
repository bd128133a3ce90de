import { describe, expect, it } from 'vitest';
import { EngineMetrics } from '../../src/engine/service/metrics.js';

/** One sample's value in a Prometheus text exposition, or undefined when the line is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('engine metrics', () => {
  it('exports the engine metrics under their names, read from the service when scraped', async () => {
    let gauges = { queued: 3, running: 1, cacheHits: 1, cacheMisses: 3 };
    const m = new EngineMetrics(() => gauges);
    m.jobSubmitted();
    m.jobSubmitted();
    m.jobFinished('done');
    m.observeStep(0.02, 2);
    m.observeStep(0.3, 4);
    const text = await m.render();

    expect(text).toMatch(/^# HELP asyrp_queue_depth Jobs waiting in the queue\.$/m);
    expect(text).toMatch(/^# TYPE asyrp_step_seconds histogram$/m);
    expect(sample(text, 'asyrp_queue_depth')).toBe(3);
    expect(sample(text, 'asyrp_jobs{state="queued"}')).toBe(3);
    expect(sample(text, 'asyrp_jobs{state="running"}')).toBe(1);
    expect(sample(text, 'asyrp_jobs_submitted_total')).toBe(2);
    expect(sample(text, 'asyrp_jobs_finished_total{state="done"}')).toBe(1);
    // States that have not happened yet are exported as 0, not left out.
    expect(sample(text, 'asyrp_jobs_finished_total{state="failed"}')).toBe(0);
    expect(sample(text, 'asyrp_jobs_finished_total{state="cancelled"}')).toBe(0);
    // Buckets are cumulative: 0.02 s falls in le=0.025 and above, 0.3 s in le=0.5 and above.
    expect(sample(text, 'asyrp_step_seconds_bucket{le="0.01"}')).toBe(0);
    expect(sample(text, 'asyrp_step_seconds_bucket{le="0.025"}')).toBe(1);
    expect(sample(text, 'asyrp_step_seconds_bucket{le="0.5"}')).toBe(2);
    expect(sample(text, 'asyrp_step_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, 'asyrp_step_seconds_count')).toBe(2);
    expect(sample(text, 'asyrp_step_seconds_sum')).toBeCloseTo(0.32, 10);
    expect(sample(text, 'asyrp_batch_size_mean')).toBe(3);
    expect(sample(text, 'asyrp_inversion_cache_hit_ratio')).toBe(0.25);
    expect(sample(text, 'asyrp_inversion_cache_hits_total')).toBe(1);

    // A later scrape reads the service again: the gauges and the mirrored cache counter follow it.
    gauges = { queued: 0, running: 0, cacheHits: 5, cacheMisses: 5 };
    const later = await m.render();
    expect(sample(later, 'asyrp_queue_depth')).toBe(0);
    expect(sample(later, 'asyrp_inversion_cache_hits_total')).toBe(5);
    expect(sample(later, 'asyrp_inversion_cache_hit_ratio')).toBe(0.5);
  });

  it('exports the process metrics next to them, event-loop lag included', async () => {
    const text = await new EngineMetrics(() => ({ queued: 0, running: 0, cacheHits: 0, cacheMisses: 0 })).render();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('keeps two services in one process apart', async () => {
    const a = new EngineMetrics(() => ({ queued: 1, running: 0, cacheHits: 0, cacheMisses: 0 }));
    const b = new EngineMetrics(() => ({ queued: 7, running: 0, cacheHits: 0, cacheMisses: 0 }));
    a.jobSubmitted();
    expect(sample(await a.render(), 'asyrp_jobs_submitted_total')).toBe(1);
    expect(sample(await b.render(), 'asyrp_jobs_submitted_total')).toBe(0);
    expect(sample(await b.render(), 'asyrp_queue_depth')).toBe(7);
  });
});
