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

  it('leaves out the time before the first finish: the first jobs carry the warm-up', () => {
    const t = new Throughput();
    t.observe(0, true);
    t.finished(10_000); // the first pair: 10 s with the first calls' allocations and an inversion
    t.finished(10_000);
    t.finished(12_000); // the next pair: 2 s
    t.finished(12_000);
    expect(t.rate(12_000)! * 1000).toBeCloseTo(2 / 2, 5);
  });

  it("starts an owner's queued job when the p-th slot frees and ends it one job's time later", () => {
    // 2 running, 1 job/s: a job takes 2 s. One slot frees at 0.5 s, the other at 2 s; each again 2 s after
    // it takes a job: starts at 0.5, 2, 2.5, 4 ...
    const base = { rate: 0.001, runningRemaining: [0.25, 1], ownerNeeds: 1, typicalJobMs: 5000 };
    expect(ownerWaitMs({ ...base, ownerJobs: [{ position: 1 }] })).toBe(2500);
    expect(ownerWaitMs({ ...base, ownerJobs: [{ position: 3 }] })).toBe(2500 + 2000);
    // An owner's running job half done ends in 1 s, before its queued one.
    expect(ownerWaitMs({ ...base, ownerJobs: [{ position: 3 }, { remaining: 0.5 }] })).toBe(1000);
    // Two must end: the second of them.
    expect(ownerWaitMs({ ...base, ownerJobs: [{ position: 3 }, { remaining: 0.5 }], ownerNeeds: 2 })).toBe(4500);
  });
});
