/**
 * Engine jobs, persisted so that queued and running work survives a restart of the engine service (#6).
 * Life cycle: queued -> running -> done | failed | cancelled; a job that was running when the process
 * died is put back in the queue by requeueInterrupted() at start.
 */
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import type { EditStatus } from '../types.js';
import { checkCount, checkId, checkModelId, checkPath, STORAGE_LIMITS } from '../validation.js';
import type { Row } from './row-mappers.js';

export type JobKind = 'edit' | 'compare' | 'sweep';
export type EngineJobState = EditStatus;

export interface EngineJob {
  readonly id: string;
  readonly idempotencyKey: string | null;
  readonly ownerId: number | null;
  readonly kind: JobKind;
  readonly modelId: string;
  readonly recipe: string;
  readonly inputPath: string;
  readonly inputHash: string;
  /** The engine's request as JSON (null for rows written before migration 7: it is in the job's folder). */
  readonly request: string | null;
  readonly status: EngineJobState;
  readonly errorCode: string | null;
  readonly progressStep: number;
  readonly progressTotal: number;
  /** How many times the job was started (more than 1 after a restart recovered it). */
  readonly attempts: number;
  readonly historyId: number | null;
  readonly resultPath: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly updatedAt: number;
}

export interface NewJob {
  /** Default: a random UUID. */
  readonly id?: string;
  readonly idempotencyKey?: string | null;
  readonly ownerId?: number | null;
  readonly kind: JobKind;
  readonly modelId: string;
  readonly recipe: string;
  readonly inputPath: string;
  readonly inputHash: string;
  /** The engine's request as JSON, committed with the row. */
  readonly request?: string | null;
  readonly historyId?: number | null;
}

const KINDS: readonly string[] = ['edit', 'compare', 'sweep'];

function toJob(r: Row): EngineJob {
  const n = (v: unknown) => (v as number | null) ?? null;
  const s = (v: unknown) => (v as string | null) ?? null;
  return {
    id: r.id as string,
    idempotencyKey: s(r.idempotency_key),
    ownerId: n(r.owner_id),
    kind: r.kind as JobKind,
    modelId: r.model_id as string,
    recipe: r.recipe as string,
    inputPath: r.input_path as string,
    inputHash: r.input_hash as string,
    request: s(r.request),
    status: r.status as EngineJobState,
    errorCode: s(r.error_code),
    progressStep: r.progress_step as number,
    progressTotal: r.progress_total as number,
    attempts: r.attempts as number,
    historyId: n(r.history_id),
    resultPath: s(r.result_path),
    createdAt: r.created_at as number,
    startedAt: n(r.started_at),
    finishedAt: n(r.finished_at),
    updatedAt: r.updated_at as number,
  };
}

/** How a final state is committed: durable (the default) waits for the disk, as synchronous = FULL does. */
export interface FinalWrite {
  readonly durable?: boolean;
}

export class JobsRepo {
  private readonly byId;
  /** The WAL file, when the database has one (a file in WAL mode): what syncCommitted() fsyncs. */
  private readonly walPath: string | null;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.byId = db.prepare('SELECT * FROM engine_jobs WHERE id = ?');
    const wal = !db.memory && !db.readonly && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.walPath = wal ? `${db.name}-wal` : null;
  }

  /**
   * Inserts a queued job. With an idempotency key already used by another job, that job is returned
   * instead (created: false): a redelivered request never runs twice.
   */
  insert(job: NewJob): { job: EngineJob; created: boolean } {
    if (!KINDS.includes(job.kind)) throw new StorageError('INVALID_INPUT', `Job kind must be edit, compare or sweep; got "${String(job.kind).slice(0, 20)}".`);
    const id = checkId(job.id ?? randomUUID(), 'id', 64);
    if (job.idempotencyKey != null) checkId(job.idempotencyKey, 'idempotencyKey');
    checkModelId(job.modelId);
    checkId(job.recipe, 'recipe', STORAGE_LIMITS.historyRecipeMax);
    checkPath(job.inputPath, 'inputPath');
    checkId(job.inputHash, 'inputHash');
    if (job.request != null && job.request.length > STORAGE_LIMITS.jobRequestMax) throw new StorageError('INVALID_INPUT', `request must be at most ${STORAGE_LIMITS.jobRequestMax} characters.`, { field: 'request' });
    return write(this.db, 'queue job', () => {
      if (job.idempotencyKey != null) {
        const seen = this.db.prepare('SELECT * FROM engine_jobs WHERE idempotency_key = ?').get(job.idempotencyKey) as Row | undefined;
        if (seen) return { job: toJob(seen), created: false };
      }
      const now = this.clock();
      this.db
        .prepare(
          `INSERT INTO engine_jobs (id, idempotency_key, owner_id, kind, model_id, recipe, input_path, input_hash, request, status, history_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
        )
        .run(id, job.idempotencyKey ?? null, job.ownerId ?? null, job.kind, job.modelId, job.recipe, job.inputPath, job.inputHash, job.request ?? null, job.historyId ?? null, now, now);
      return { job: this.load(id)!, created: true };
    });
  }

  /**
   * Inserts several jobs in one transaction, so a burst of submits pays one commit (one fsync with
   * synchronous=FULL) instead of one each. Each job gets its own answer: when the shared transaction
   * fails, the jobs are inserted one by one, so one bad job does not fail the others.
   */
  insertMany(jobs: readonly NewJob[]): ({ job: EngineJob; created: boolean } | { error: unknown })[] {
    if (jobs.length > 1) {
      try {
        return write(this.db, 'queue jobs', () => jobs.map((j) => this.insert(j)));
      } catch {
        // Fall through: one by one, each with its own error.
      }
    }
    return jobs.map((j) => {
      try {
        return this.insert(j);
      } catch (error) {
        return { error };
      }
    });
  }

  /**
   * insertMany committed without the commit's own fsync (synchronous = NORMAL for this transaction):
   * the rows are in the WAL, safe from a process crash at once, and safe from a power cut once
   * syncCommitted() resolves, which fsyncs the WAL on libuv's thread pool. Together they give what a
   * synchronous = FULL commit gives, without holding the event loop for the fsync (a burst's commits
   * had held it 0.1-0.3 s each on a busy disk; docs/benchmarks.md, "Inference worker"). Without a WAL
   * (an in-memory database) it is insertMany.
   */
  insertManyUnsynced(jobs: readonly NewJob[]): ({ job: EngineJob; created: boolean } | { error: unknown })[] {
    return this.unsynced(() => this.insertMany(jobs));
  }

  /**
   * Runs `fn`'s commits at synchronous = NORMAL: in the WAL at once (safe from a process crash), on disk
   * at the next sync of the WAL (syncCommitted, a later FULL commit, a checkpoint). For writes whose loss
   * in a power cut costs nothing, or that something else already made durable.
   */
  private unsynced<T>(fn: () => T): T {
    if (!this.walPath || this.db.inTransaction) return fn();
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    this.db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.db.pragma(`synchronous = ${level}`);
    }
  }

  /**
   * Makes every commit so far durable: an fsync of the WAL (an fsync of any descriptor of a file flushes
   * all of it). Callers during one sync share the next, which begins after they asked. A WAL that is
   * gone was checkpointed into the database file, which a checkpoint syncs.
   */
  syncCommitted(): Promise<void> {
    if (!this.walPath) return Promise.resolve();
    if (!this.syncing) return this.startSync(this.walPath);
    const walPath = this.walPath;
    this.nextSync ??= this.syncing.then(
      () => this.startSync(walPath),
      () => this.startSync(walPath),
    );
    return this.nextSync;
  }

  private startSync(walPath: string): Promise<void> {
    this.nextSync = null;
    const run = (async () => {
      let fh: Awaited<ReturnType<typeof open>> | undefined;
      try {
        fh = await open(walPath, 'r');
        await fh.sync();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        const code = (e as NodeJS.ErrnoException).code;
        throw new StorageError(code === 'ENOSPC' ? 'DISK_FULL' : 'IO_FAILED', `sync the job database's log: ${code ?? (e as Error).message}`, { errno: code }, { cause: e });
      } finally {
        await fh?.close().catch(() => undefined);
      }
    })();
    this.syncing = run;
    const clear = () => {
      if (this.syncing === run) this.syncing = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** The job that used this idempotency key, if any (the engine answers a repeat before validating). */
  findByIdempotencyKey(key: string): EngineJob | undefined {
    return read('find job by key', () => {
      const row = this.db.prepare('SELECT * FROM engine_jobs WHERE idempotency_key = ?').get(key) as Row | undefined;
      return row && toJob(row);
    });
  }

  private load(id: string): EngineJob | undefined {
    const row = this.byId.get(id) as Row | undefined;
    return row && toJob(row);
  }

  get(id: string): EngineJob {
    const job = read('read job', () => this.load(id));
    if (!job) throw new StorageError('NOT_FOUND', `No job ${id}.`, { id });
    return job;
  }

  /** Takes the oldest queued job and marks it running, atomically (two workers never get the same job). */
  claimNext(): EngineJob | undefined {
    return write(this.db, 'claim job', () => {
      const now = this.clock();
      const row = this.db
        .prepare(
          `UPDATE engine_jobs SET status = 'running', started_at = ?, updated_at = ?, attempts = attempts + 1
           WHERE id = (SELECT id FROM engine_jobs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1) RETURNING *`,
        )
        .get(now, now) as Row | undefined;
      return row && toJob(row);
    });
  }

  /**
   * Marks one particular queued job running (for a service that picks jobs itself). Not synced (see
   * unsynced): queued and running rows are both requeued at a restart, so losing this in a power cut
   * loses only an attempt's count, and a batch of starts no longer holds the caller for an fsync each.
   */
  markRunning(id: string): EngineJob {
    return this.unsynced(() => this.transition(id, ['queued'], "status = 'running', started_at = @now, attempts = attempts + 1", {}));
  }

  /** Progress is advisory (for "step 12/50" messages); it is not a state change. */
  updateProgress(id: string, step: number, total: number): void {
    checkCount(step, 'step', 1_000_000);
    checkCount(total, 'total', 1_000_000);
    this.transition(id, ['running'], 'progress_step = @step, progress_total = @total', { step, total });
  }

  /**
   * The final states. `durable: false` commits without the fsync (see unsynced), for a caller that has
   * already made the final state durable elsewhere (the engine's final.json, which a restart reads back
   * for any row the database lost).
   */
  markDone(id: string, resultPath: string, opts: FinalWrite = {}): EngineJob {
    checkPath(resultPath, 'resultPath');
    return this.final(opts, () => this.transition(id, ['running'], "status = 'done', result_path = @resultPath, finished_at = @now", { resultPath }));
  }

  markFailed(id: string, errorCode: string, opts: FinalWrite = {}): EngineJob {
    checkId(errorCode, 'errorCode', 64);
    return this.final(opts, () => this.transition(id, ['queued', 'running'], "status = 'failed', error_code = @errorCode, finished_at = @now", { errorCode }));
  }

  markCancelled(id: string, opts: FinalWrite = {}): EngineJob {
    return this.final(opts, () => this.transition(id, ['queued', 'running'], "status = 'cancelled', finished_at = @now", {}));
  }

  private final<T>(opts: FinalWrite, fn: () => T): T {
    return opts.durable === false ? this.unsynced(fn) : fn();
  }

  private transition(id: string, from: readonly EngineJobState[], set: string, params: Record<string, unknown>): EngineJob {
    return write(this.db, 'update job', () => {
      const job = this.load(id);
      if (!job) throw new StorageError('NOT_FOUND', `No job ${id}.`, { id });
      if (!from.includes(job.status)) throw new StorageError('INVALID_STATE', `Job ${id} is ${job.status}.`, { id, status: job.status });
      this.db.prepare(`UPDATE engine_jobs SET ${set}, updated_at = @now WHERE id = @id`).run({ ...params, id, now: this.clock() });
      return this.load(id)!;
    });
  }

  /** Queued and running jobs, oldest first: what a restarting engine service must look at. */
  listUnfinished(): EngineJob[] {
    return read('list unfinished jobs', () =>
      (this.db.prepare("SELECT * FROM engine_jobs WHERE status IN ('queued', 'running') ORDER BY created_at, id").all() as Row[]).map(toJob),
    );
  }

  /**
   * At start, before any worker runs: jobs left 'running' by a dead process go back to 'queued' (their
   * progress reset) so they run again. Returns how many. A job interrupted on its maxAttempts-th start fails instead
   * with INTERRUPTED, so an input that crashes the process cannot crash it forever.
   */
  requeueInterrupted(maxAttempts = 3): number {
    return write(this.db, 'requeue interrupted jobs', () => {
      const now = this.clock();
      this.db
        .prepare("UPDATE engine_jobs SET status = 'failed', error_code = 'INTERRUPTED', finished_at = ?, updated_at = ? WHERE status = 'running' AND attempts >= ?")
        .run(now, now, maxAttempts);
      return this.db
        .prepare("UPDATE engine_jobs SET status = 'queued', progress_step = 0, started_at = NULL, updated_at = ? WHERE status = 'running'")
        .run(now).changes;
    });
  }

  /** Deletes finished jobs older than the cutoff (their history rows stay). */
  purgeFinished(olderThanMs: number): number {
    return write(this.db, 'purge jobs', () =>
      this.db.prepare("DELETE FROM engine_jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ?").run(this.clock() - olderThanMs).changes,
    );
  }
}
