/**
 * A fault injected at the storage boundary: while `failing()` says so, every database write of a job's
 * final state (markDone, markFailed, markCancelled) throws the StorageError a disk fault gives, and
 * everything else works. The only way to fail those writes alone, which is the case that matters.
 */
import { StorageError, type Storage } from '../../src/storage/index.js';

const FINAL_MARKS = new Set(['markDone', 'markFailed', 'markCancelled']);

export function withFailingFinalMarks(storage: Storage, failing: () => boolean = () => true): Storage {
  const jobs = new Proxy(storage.jobs, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (typeof key !== 'string' || !FINAL_MARKS.has(key)) return fn;
      return (...args: unknown[]) => {
        if (failing()) throw new StorageError('IO_FAILED', 'update job: a disk read or write failed (injected).');
        return fn(...args);
      };
    },
  });
  return new Proxy(storage, { get: (target, key) => (key === 'jobs' ? jobs : Reflect.get(target, key)) });
}
