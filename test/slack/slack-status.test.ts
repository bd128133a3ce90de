/**
 * The status message is updated at most once per 2 s by default (chat.update is rate limited by Slack,
 * and people cannot read faster): an engine that reports progress every 50 ms for 3 s still produces
 * only a handful of updates, spaced at least 2 s apart, then the final line.
 */
import { describe, expect, it } from 'vitest';
import type { EngineApi } from '../../src/bots/core/types.js';
import type { JobEvent } from '../../src/engine/client/api-types.js';
import { resultIn, samplePng, useSlackSuite } from './support/slack-harness.js';

/** The real engine, with a burst of progress events before each job is waited for. */
function chattyEngine(inner: EngineApi, ms: number): EngineApi {
  return {
    ...inner,
    models: () => inner.models(),
    submit: (r) => inner.submit(r),
    status: (id) => inner.status(id),
    result: (id, v) => inner.result(id, v),
    cancel: (id) => inner.cancel(id),
    async wait(id, onEvent, signal) {
      const base = await inner.status(id);
      const total = ms / 50;
      for (let step = 0; step < total; step++) {
        onEvent?.({ status: { ...base, state: 'running', phase: 'editing', step, total } } as JobEvent);
        await new Promise((r) => setTimeout(r, 50));
      }
      return inner.wait(id, onEvent, signal);
    },
  };
}

const { h, guard } = useSlackSuite({ engine: (client) => chattyEngine(client, 3000), statusIntervalMs: null });

describe('status message', () => {
  it('is posted once in the thread and updated at most every 2 s', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.alice, 'C0STATUS', samplePng());
    await fake.command(fake.users.alice, 'C0STATUS', 'global 0.5');
    await fake.waitFor(() => resultIn(h, 'C0STATUS', image.ts), 'the result');
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'white_check_mark'), 'the done reaction');
    const status = fake.calls.filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.channel === 'C0STATUS');
    expect(status[0]!.method).toBe('chat.postMessage');
    expect(status.slice(1).every((c) => c.method === 'chat.update')).toBe(true);
    const progress = status.slice(0, -1); // the post and its throttled updates; the last one is the final "Done"
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(1950);
    expect(status.at(-1)!.args.text).toContain('✅ Done');
    expect(guard.violations).toEqual([]);
  });
});
