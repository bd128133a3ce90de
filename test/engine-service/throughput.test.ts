/** The throughput behind Retry-After: busy time only, and batches that finish in one tick. */
import { describe, expect, it } from 'vitest';
import { ownerWaitMs, Throughput } from '../../src/engine/service/throughput.js';

describe('Throughput', () => {
  it('counts a batch that finishes in one tick over the time it took, not the zero time between its finishes', () => {
    const t = new Throughput();
    t.observe(0, true);
    for (let i = 0; i < 8; i++) t.finished(1000); // a batch of 8, one tick
    expect(t.rate(1000)! * 1000).toBeCloseTo(8, 5);
    // Time with nothing running does not count; busy time since the last finish does.
    t.observe(1000, false);
    t.observe(61_000, true);
    expect(t.rate(62_000)! * 1000).toBeCloseTo(8 / 2, 5);
  });

  it('measures over the last 32 finishes once there are that many', () => {
    const t = new Throughput();
    t.observe(0, true);
    for (let i = 1; i <= 40; i++) t.finished(i * 1000); // slow: 1 job/s
    for (let i = 1; i <= 32; i++) t.finished(40_000 + i * 250); // fast: 4 jobs/s
    expect(t.rate(48_000)! * 1000).toBeCloseTo(4, 5);
  });

  it("puts an owner's queued job behind the jobs ahead of it plus one job's time", () => {
    // 8 running, 2 jobs/s: a job takes 4 s; position 6 starts after 3 s.
    expect(ownerWaitMs({ rate: 0.002, running: 8, ownerJobs: [{ position: 6 }], ownerNeeds: 1, typicalJobMs: 5000 })).toBe(7000);
    // A running job half done ends in 2 s, before the queued one.
    expect(ownerWaitMs({ rate: 0.002, running: 8, ownerJobs: [{ position: 6 }, { remaining: 0.5 }], ownerNeeds: 1, typicalJobMs: 5000 })).toBe(2000);
  });
});
