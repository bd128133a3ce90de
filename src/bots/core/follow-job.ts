/**
 * Follows an engine job to its end. The event stream is the fast path; if it ends early or breaks
 * (the engine restarted: it persists jobs and resumes them), the job is polled until it finishes, so a
 * short engine outage delays the result instead of losing it.
 */
import type { JobEvent, JobStatus } from '../../engine/client/api-types.js';
import { EngineClientError } from '../../engine/client/engine-client.js';
import type { EngineApi } from './types.js';
import { UserFacingError } from './user-facing-error.js';
import { friendlyMessageForCode } from './friendly-errors.js';
import { HandedOver } from './handed-over.js';

export interface FollowOptions {
  readonly pollMs?: number;
  /** Give up after this long without the job ending (default 30 minutes). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Shutdown: stop following (the job goes on in the engine) and throw HandedOver. */
  readonly signal?: AbortSignal;
}

const isFinal = (s: JobStatus | null) => s !== null && (s.state === 'done' || s.state === 'failed' || s.state === 'cancelled');
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function followJob(engine: Pick<EngineApi, 'wait' | 'status'>, id: string, onEvent: (e: JobEvent) => void, o: FollowOptions = {}): Promise<JobStatus> {
  const now = o.now ?? Date.now;
  const deadline = now() + (o.timeoutMs ?? 30 * 60_000);
  const { signal } = o;
  let last: JobStatus | null = null;
  if (signal?.aborted) throw new HandedOver();
  try {
    last = await engine.wait(id, onEvent, signal);
  } catch (e) {
    if (signal?.aborted) throw new HandedOver();
    if (!(e instanceof EngineClientError) || e.code !== 'UNAVAILABLE') throw e;
  }
  while (!isFinal(last)) {
    if (now() > deadline) throw new UserFacingError('internal', friendlyMessageForCode('TIMEOUT'));
    await sleep(o.pollMs ?? 1000, signal);
    if (signal?.aborted) throw new HandedOver();
    try {
      last = await engine.status(id);
      onEvent({ status: last });
    } catch (e) {
      // The engine is restarting: keep asking until the deadline.
      if (!(e instanceof EngineClientError) || e.code !== 'UNAVAILABLE') throw e;
    }
  }
  return last!;
}
