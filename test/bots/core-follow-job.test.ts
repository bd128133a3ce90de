/** Following a job survives an event stream that ends early and an engine that is briefly away. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/engine/client/api-types.js';
import { EngineClientError } from '../../src/engine/client/engine-client.js';
import { followJob } from '../../src/bots/core/follow-job.js';

const status = (state: JobStatus['state']): JobStatus =>
  ({ id: 'j', kind: 'edit', state, phase: state === 'done' ? 'finished' : 'editing', position: 0, step: 1, total: 2, etaMs: null, cacheHit: false, model: 'm', recipe: 'r', owner: 'o', createdAt: '', startedAt: null, finishedAt: null, error: null, results: [], labels: {} }) as JobStatus;

describe('followJob', () => {
  it('returns the streamed final status', async () => {
    const seen: string[] = [];
    const final = await followJob({ wait: async (_id, on) => (on!({ status: status('running') }), status('done')), status: async () => status('running') }, 'j', (e) => seen.push(e.status.state));
    expect(final.state).toBe('done');
    expect(seen).toEqual(['running']);
  });

  it('polls when the stream breaks or ends early, through an engine restart', async () => {
    const answers: (JobStatus | Error)[] = [new EngineClientError('UNAVAILABLE', 'down', 0), status('running'), status('done')];
    const final = await followJob(
      {
        wait: async () => {
          throw new EngineClientError('UNAVAILABLE', 'stream broke', 0);
        },
        status: async () => {
          const a = answers.shift()!;
          if (a instanceof Error) throw a;
          return a;
        },
      },
      'j',
      () => undefined,
      { pollMs: 1 },
    );
    expect(final.state).toBe('done');
    expect(answers).toEqual([]);
  });

  it('gives up at the deadline with a friendly timeout, and passes other errors on', async () => {
    let t = 0;
    const engine = { wait: async () => status('running'), status: async () => ((t += 1000), status('running')) };
    await expect(followJob(engine, 'j', () => undefined, { pollMs: 1, timeoutMs: 5000, now: () => t })).rejects.toThrow(/took too long/);
    const notFound = { wait: async () => status('running'), status: async () => Promise.reject(new EngineClientError('NOT_FOUND', 'gone', 404)) };
    await expect(followJob(notFound, 'j', () => undefined, { pollMs: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
