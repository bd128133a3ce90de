/** The worker's progress throttle: one update per interval, phase and state changes at once. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/engine/client/api-types.js';
import { ProgressThrottle } from '../../src/engine/cluster/progress-throttle.js';

const at = (state: JobStatus['state'], phase: JobStatus['phase'], step: number) => ({ state, phase, step }) as JobStatus;

describe('ProgressThrottle', () => {
  it('lets one update through per interval, and every change of phase or state at once', () => {
    let now = 1000;
    const t = new ProgressThrottle(250, () => now);
    expect(t.admit(at('queued', 'queued', 0))).toBe(true);
    expect(t.admit(at('running', 'inversion', 1))).toBe(true);
    now += 100;
    expect(t.admit(at('running', 'inversion', 2))).toBe(false);
    // A new phase goes out at once, even inside the interval.
    expect(t.admit(at('running', 'editing', 3))).toBe(true);
    now += 249;
    expect(t.admit(at('running', 'editing', 4))).toBe(false);
    now += 1;
    expect(t.admit(at('running', 'editing', 5))).toBe(true);
  });

  it('with an interval of 0 every update goes out', () => {
    const t = new ProgressThrottle(0, () => 5);
    expect([1, 2, 3].map((s) => t.admit(at('running', 'inversion', s)))).toEqual([true, true, true]);
  });
});
