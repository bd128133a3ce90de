/**
 * Wraps a real engine client so a test can hold a job between "submitted" and "finished": used to
 * expire the interaction token while the job runs, and to count submissions.
 */
import type { EngineApi } from '../../../src/bots/core/types.js';

export interface GatedEngine extends EngineApi {
  readonly submitted: string[];
  /** Jobs wait here until open() (default: open). */
  close(): void;
  open(): void;
}

export function gatedEngine(inner: EngineApi): GatedEngine {
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const submitted: string[] = [];
  return {
    submitted,
    close() {
      gate = new Promise((r) => (release = r));
    },
    open() {
      release();
    },
    models: () => inner.models(),
    status: (id) => inner.status(id),
    cancel: (id) => inner.cancel(id),
    result: (id, v) => inner.result(id, v),
    async submit(req) {
      const res = await inner.submit(req);
      submitted.push(req.idempotencyKey ?? res.id);
      return res;
    },
    async wait(id, onEvent, signal) {
      await gate;
      return inner.wait(id, onEvent, signal);
    },
  };
}
