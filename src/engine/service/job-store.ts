/**
 * Where the engine service persists jobs: an interface over the storage layer's jobs table (#5), so the
 * service's logic does not depend on SQLite and a future shared queue (docs/scaling.md) can replace it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JobKind, JobState, ResultVariant } from '../client/api-types.js';
import { isStorageError } from '../../storage/index.js';
import { RESULT_FILES } from './job-results.js';

export interface StoredJob {
  readonly id: string;
  readonly status: JobState;
  readonly errorCode: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly results: ResultVariant[];
  /** The request as JSON, from the row (null for a job submitted before requests were kept there). */
  readonly request: string | null;
}

export interface NewStoredJob {
  readonly id: string;
  readonly idempotencyKey: string | null;
  readonly kind: JobKind;
  readonly modelId: string;
  readonly recipe: string;
  readonly inputPath: string;
  readonly inputHash: string;
  /** The request as JSON: durable with the row, so a restart can run the job again. */
  readonly request: string;
}

export interface JobStore {
  /**
   * Inserts a queued job; resolves once its row is committed. Inserts asked for in the same turn of the
   * event loop share one commit (group commit), so durability per job is unchanged and a burst pays one
   * fsync instead of one per job.
   */
  insert(job: NewStoredJob): Promise<{ job: StoredJob; created: boolean }>;
  findByIdempotencyKey(key: string): StoredJob | null;
  /** The row, or null when there is none; throws when the database cannot be read. */
  get(id: string): StoredJob | null;
  /** Not durable on its own (a restart requeues queued and running jobs alike). */
  markRunning(id: string): void;
  /** `durable: false` when the final state is already on disk elsewhere (final.json); durable otherwise. */
  markDone(id: string, resultDir: string, results: ResultVariant[], durable?: boolean): void;
  markFailed(id: string, code: string, durable?: boolean): void;
  markCancelled(id: string, durable?: boolean): void;
  requeueInterrupted(): number;
  listUnfinished(): StoredJob[];
}

/** The subset of the storage layer's JobsRepo this adapter uses. */
export interface JobsRepoLike {
  insert(job: NewStoredJob): { job: JobsRow; created: boolean };
  insertMany(jobs: readonly NewStoredJob[]): ({ job: JobsRow; created: boolean } | { error: unknown })[];
  /** insertMany without the commit's fsync, made durable by syncCommitted (both or neither). */
  insertManyUnsynced?(jobs: readonly NewStoredJob[]): ({ job: JobsRow; created: boolean } | { error: unknown })[];
  syncCommitted?(): Promise<void>;
  get(id: string): JobsRow;
  findByIdempotencyKey(key: string): JobsRow | undefined;
  markRunning(id: string): unknown;
  markDone(id: string, resultPath: string, opts?: { durable?: boolean }): unknown;
  markFailed(id: string, errorCode: string, opts?: { durable?: boolean }): unknown;
  markCancelled(id: string, opts?: { durable?: boolean }): unknown;
  requeueInterrupted(maxAttempts?: number): number;
  listUnfinished(): JobsRow[];
}

interface JobsRow {
  readonly id: string;
  readonly status: JobState;
  readonly errorCode: string | null;
  readonly resultPath: string | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly request: string | null;
}

function toStored(r: JobsRow): StoredJob {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const dir = r.resultPath;
  const results = dir ? (Object.keys(RESULT_FILES) as ResultVariant[]).filter((v) => existsSync(join(dir, RESULT_FILES[v].file))) : [];
  return { id: r.id, status: r.status, errorCode: r.errorCode, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt), results, request: r.request };
}

interface PendingInsert {
  readonly job: NewStoredJob;
  resolve(r: { job: StoredJob; created: boolean }): void;
  reject(e: unknown): void;
}

export function jobStoreFromRepo(repo: JobsRepoLike): JobStore {
  let pending: PendingInsert[] = [];
  // The commit's fsync on libuv's pool when the repo can (insertManyUnsynced + syncCommitted): the event
  // loop goes on serving while the disk works, and each insert is answered only once it is durable.
  const deferred = repo.insertManyUnsynced && repo.syncCommitted ? { insert: repo.insertManyUnsynced.bind(repo), sync: repo.syncCommitted.bind(repo) } : null;
  const flush = () => {
    const batch = pending;
    pending = [];
    let answers: ReturnType<JobsRepoLike['insertMany']>;
    try {
      answers = (deferred?.insert ?? repo.insertMany.bind(repo))(batch.map((p) => p.job));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const answer = () =>
      batch.forEach((p, i) => {
        const a = answers[i]!;
        if ('error' in a) p.reject(a.error);
        else p.resolve({ job: toStored(a.job), created: a.created });
      });
    if (!deferred) return answer();
    deferred.sync().then(answer, (e: unknown) => {
      // Committed but not known durable: no submit is answered 202, and the rows this batch created are
      // failed, best effort, so that a restart does not run a job its client was told was refused.
      batch.forEach((p, i) => {
        const a = answers[i]!;
        if (!('error' in a) && a.created) {
          try {
            repo.markFailed(a.job.id, 'IO_FAILED');
          } catch {
            // The database cannot take it either; the job's input is removed by the refused submit, so a
            // restart fails it with IO_FAILED when it finds no input.
          }
        }
        p.reject(e);
      });
    });
  };
  return {
    insert: (job) =>
      new Promise((resolve, reject) => {
        // setImmediate runs after this turn's I/O callbacks: every submit whose files were written in the
        // same turn joins the batch.
        if (!pending.length) setImmediate(flush);
        pending.push({ job, resolve, reject });
      }),
    findByIdempotencyKey: (key) => {
      const r = repo.findByIdempotencyKey(key);
      return r ? toStored(r) : null;
    },
    get: (id) => {
      try {
        return toStored(repo.get(id));
      } catch (e) {
        // Only "no such row" means no job: a database that cannot be read must not look empty.
        if (isStorageError(e, 'NOT_FOUND')) return null;
        throw e;
      }
    },
    markRunning: (id) => void repo.markRunning(id),
    markDone: (id, dir, _results, durable = true) => void repo.markDone(id, dir, { durable }),
    markFailed: (id, code, durable = true) => void repo.markFailed(id, code, { durable }),
    markCancelled: (id, durable = true) => void repo.markCancelled(id, { durable }),
    requeueInterrupted: () => repo.requeueInterrupted(),
    listUnfinished: () => repo.listUnfinished().map(toStored),
  };
}
