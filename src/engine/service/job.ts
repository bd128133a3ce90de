/**
 * A job while this process holds it: its request, its state, and (once started) the trajectories the
 * worker advances. One job is one inversion followed by one generation per output sample (a sweep has
 * several, sharing the inversion).
 */
import type { ApiError, JobKind, JobPhase, JobState, JobStatus, ResultVariant } from '../client/api-types.js';
import type { GenerationTrajectory, InversionTrajectory, Trajectory } from '../diffusion/trajectory.js';
import type { PreparedInput } from '../pipeline/edit-image.js';
import type { EditPlan } from '../pipeline/edit-plan.js';

/** What is persisted beside the input image, enough to run the job again after a restart. */
export interface JobRequest {
  readonly kind: JobKind;
  readonly owner: string;
  /** Normalized recipe text. */
  readonly recipe: string;
  readonly model: string;
  readonly strengths: readonly number[];
  readonly size: number | null;
  /** Face models: the face to edit (0 = largest). Absent in requests persisted before faces existed. */
  readonly faceIndex?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly idempotencyKey: string | null;
  readonly createdAt: string;
  /** The input is clearly outside the model's domain (pipeline/domain-check.ts): the line to show. */
  readonly domainNote?: string;
}

export const DEFAULT_SWEEP = [0.25, 0.5, 1, 1.5] as const;

export type FinalState = 'done' | 'failed' | 'cancelled';

/** How a job ended, decided by the worker and then recorded durably (final.json and the database). */
export interface Settlement {
  readonly state: FinalState;
  readonly error: ApiError | null;
  readonly finishedAt: string;
}

export class Job {
  state: JobState = 'queued';
  phase: JobPhase = 'queued';
  error: ApiError | null = null;
  cacheHit = false;
  startedAt: string | null = null;
  finishedAt: string | null = null;
  startedMs = 0;
  cancelRequested = false;
  results: ResultVariant[] = [];
  /**
   * Set when the job has ended but its final state is not recorded yet: until it is, nobody is told the
   * job is final (a restart would run it again, so saying "cancelled" now could be a lie).
   */
  settled: Settlement | null = null;
  /** When the final state was recorded (Date.now()), for evicting finished jobs from memory. */
  recordedMs = 0;

  input: PreparedInput | null = null;
  plan: EditPlan | null = null;
  cacheKey = '';
  inversion: InversionTrajectory | null = null;
  generations: GenerationTrajectory[] = [];
  /** Evaluations done over all samples, and in all (known once started). */
  step = 0;
  total = 0;

  constructor(
    readonly id: string,
    readonly request: JobRequest,
  ) {}

  get owner(): string {
    return this.request.owner;
  }

  /** Samples this job puts in a batch while generating. */
  get width(): number {
    return this.request.kind === 'sweep' ? this.request.strengths.length : 1;
  }

  /** Queued -> running: the input is prepared and the plan made (the worker's first tick for this job). */
  start(input: PreparedInput, plan: EditPlan): void {
    this.input = input;
    this.plan = plan;
    this.state = 'running';
    this.phase = 'inversion';
    this.startedAt = new Date().toISOString();
    this.startedMs = Date.now();
  }

  /** Every sample is generated: the results are being written. */
  beginEncoding(): void {
    this.phase = 'encoding';
  }

  /**
   * The job has ended (decided, not yet recorded): it leaves the batch and its tensors are freed; the
   * status still reads running/finishing until record() is called.
   */
  settle(settlement: Settlement): void {
    this.settled = settlement;
    this.inversion = null;
    this.generations = [];
  }

  /** The settlement is recorded durably: from now on the job is reported final. */
  record(): void {
    const s = this.settled;
    if (!s) throw new Error(`job ${this.id} has no settlement to record`);
    this.state = s.state;
    this.phase = 'finished';
    this.error = s.error;
    this.finishedAt = s.finishedAt;
    this.recordedMs = Date.now();
  }

  /** A job that ended before this process started, as its database row recorded it. */
  static restoreFinished(id: string, request: JobRequest, row: { state: JobState; error: ApiError | null; results: ResultVariant[]; startedAt: string | null; finishedAt: string | null }): Job {
    const job = new Job(id, request);
    job.state = row.state;
    job.phase = 'finished';
    job.results = row.results;
    job.error = row.error;
    job.startedAt = row.startedAt;
    job.finishedAt = row.finishedAt;
    return job;
  }

  /** The trajectories to advance on the next tick. */
  active(): Trajectory[] {
    if (this.inversion && !this.inversion.done) return [this.inversion];
    return this.generations.filter((g) => !g.done);
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed' || this.state === 'cancelled';
  }

  /** Ended, whether or not the end is recorded yet: the worker no longer advances it. */
  get ended(): boolean {
    return this.finished || this.settled !== null;
  }

  livePhase(): JobPhase {
    if (!this.finished && this.settled) return 'finishing';
    if (this.state !== 'running') return this.phase;
    if (this.inversion && !this.inversion.done) return 'inversion';
    const g = this.generations.find((x) => !x.done);
    return g ? g.phase : 'encoding';
  }

  snapshot(position: number, etaMs: number | null): JobStatus {
    return {
      id: this.id,
      kind: this.request.kind,
      state: !this.finished && this.settled ? 'running' : this.state,
      phase: this.livePhase(),
      position,
      step: this.step,
      total: this.total,
      etaMs,
      cacheHit: this.cacheHit,
      model: this.request.model,
      recipe: this.request.recipe,
      owner: this.request.owner,
      createdAt: this.request.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      error: this.error,
      results: this.results,
      labels: this.request.labels,
      ...(this.request.domainNote ? { domainNote: this.request.domainNote } : {}),
    };
  }
}
