/**
 * The job store of a scale-out worker's local engine: in memory. The job's durable home is the BullMQ
 * job in Redis; if the worker dies, BullMQ hands the job to another worker, so a local row that
 * survived a restart would only run the same edit a second time, here, for nobody.
 */
import type { ResultVariant } from '../client/api-types.js';
import type { JobStore, NewStoredJob, StoredJob } from '../service/job-store.js';

export interface MemoryJobStore extends JobStore {
  /** Forgets a row once its job is handed back (rows would otherwise pile up over a worker's life). */
  drop(id: string): void;
  readonly size: number;
}

export function memoryJobStore(): MemoryJobStore {
  const rows = new Map<string, StoredJob & { idempotencyKey: string | null }>();
  const update = (id: string, patch: Partial<StoredJob>) => {
    const row = rows.get(id);
    if (row) rows.set(id, { ...row, ...patch });
  };
  const now = () => new Date().toISOString();
  return {
    async insert(job: NewStoredJob) {
      const existing = job.idempotencyKey ? [...rows.values()].find((r) => r.idempotencyKey === job.idempotencyKey) : undefined;
      if (existing) return { job: existing, created: false };
      const row = { id: job.id, idempotencyKey: job.idempotencyKey, status: 'queued' as const, errorCode: null, startedAt: null, finishedAt: null, results: [], request: job.request };
      rows.set(job.id, row);
      return { job: row, created: true };
    },
    findByIdempotencyKey: (key) => [...rows.values()].find((r) => r.idempotencyKey === key) ?? null,
    get: (id) => rows.get(id) ?? null,
    markRunning: (id) => update(id, { status: 'running', startedAt: now() }),
    markDone: (id, _dir, results: ResultVariant[]) => update(id, { status: 'done', finishedAt: now(), results }),
    markFailed: (id, code) => update(id, { status: 'failed', errorCode: code, finishedAt: now() }),
    markCancelled: (id) => update(id, { status: 'cancelled', finishedAt: now() }),
    requeueInterrupted: () => 0,
    listUnfinished: () => [],
    drop: (id) => void rows.delete(id),
    get size() {
      return rows.size;
    },
  };
}
