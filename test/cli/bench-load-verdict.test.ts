/** `asyrp bench load`'s throughput verdict: a side is called only when every round agrees. */
import { describe, expect, it } from 'vitest';
import { throughputVerdict } from '../../src/cli/commands/bench-load.js';

describe('bench load throughput verdict', () => {
  it('says "no lower" only when every round of both ratios is at least 1', () => {
    expect(throughputVerdict([1.16, 1.19], [1.18, 1.17])).toMatch(/^no lower in any round \(edits\/min and samples\/s ratios 1\.16–1\.19 over 2 round/);
    expect(throughputVerdict([1, 1.02], [1.01, 1])).toMatch(/^no lower in any round/);
  });

  it('says "lower" only when every round is below 1', () => {
    expect(throughputVerdict([0.94, 0.97], [0.96, 0.95])).toMatch(/^lower in every round/);
  });

  it('calls nothing when the rounds disagree, and says how to settle it', () => {
    const v = throughputVerdict([1.13, 0.87], [1.02, 0.99]);
    expect(v).toMatch(/^not decided/);
    expect(v).toMatch(/0\.87–1\.13/);
    expect(v).toMatch(/--repeat/);
  });
});
