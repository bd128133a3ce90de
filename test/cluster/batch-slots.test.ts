/** A worker holds its running jobs plus its free batch slots of jobs, counted in samples (a sweep is several). */
import { describe, expect, it } from 'vitest';
import { BatchSlots } from '../../src/engine/cluster/batch-slots.js';

describe('BatchSlots', () => {
  it('counts a sweep as its strengths and an edit as one sample', () => {
    expect(BatchSlots.width({ kind: 'edit' })).toBe(1);
    expect(BatchSlots.width({ kind: 'compare' })).toBe(1);
    expect(BatchSlots.width({ kind: 'sweep', strengths: [0.5, 1] })).toBe(2);
    expect(BatchSlots.width({ kind: 'sweep' })).toBe(4);
  });

  it('lets the worker take more jobs only while samples are free', () => {
    const s = new BatchSlots(8);
    expect(s.concurrency).toBe(8);
    s.take(4);
    s.take(4);
    // Two 4-sample sweeps fill the batch: hold those two, take nothing more.
    expect(s.concurrency).toBe(2);
    s.release(4);
    expect(s.concurrency).toBe(1 + 4);
    s.take(1);
    s.take(1);
    expect(s.concurrency).toBe(3 + 2);
    expect(s.busy).toBe(6);
  });

  it('never asks BullMQ for a concurrency of 0', () => {
    const s = new BatchSlots(1);
    s.take(1);
    s.release(1);
    expect(s.concurrency).toBe(1);
  });
});
