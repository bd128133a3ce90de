/**
 * The engine service: accepts jobs, persists them, and runs them with continuous batching. Every tick
 * makes one UNet call per model holding the current step of every running sample of that model (each
 * with its own t and Δh); jobs join and leave between ticks. Queued jobs are admitted round robin by
 * owner. A job is persisted when accepted, so a restart resumes it. With the UNet in the inference
 * worker, the main thread's share of the work (admitting jobs, writing finished ones' results) runs
 * while the batch's UNet call computes, not between calls.
 */
import { join } from 'node:path';
import type { ApiError, HealthResponse, JobEvent, JobStatus, ModelInfo, ResultVariant, SubmitResponse } from '../client/api-types.js';
import { stepTogether } from '../diffusion/batch-runner.js';
import { JobFiles } from './job-files.js';
import { FairQueue, type JobQueue } from './fair-queue.js';
import { EventLoopTurns } from './event-loop-turns.js';
import { InversionCache } from './inversion-cache.js';
import { generateOnceInverted, startJob } from './job-start.js';
import { Job, type FinalState } from './job.js';
import { RESULT_FILES } from './job-results.js';
import { JobAdmission } from './job-admission.js';
import { ModelTurns } from './model-turns.js';
import { JobCompletions } from './job-completion.js';
import { enlargeForDisplay } from '../image/display-size.js';
import { ProgressHub } from './job-progress.js';
import { EngineMetrics } from './metrics.js';
import { Throughput } from './throughput.js';
import { ServiceError, toApiError } from './service-error.js';
import { loadFinishedJob } from './finished-job.js';
import { FinalStates, RECORD_RETRY_MS } from './final-states.js';
import { reserveSubmit, submitJob, type SubmitContext } from './submit-job.js';
import { SubmitPlaces } from './submit-places.js';
import { describeModels } from './model-info.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';

import type { EngineApi, SubmitInput, SubmitIntent, SubmitTicket } from './engine-api.js';
import type { EngineServiceOptions, StartReport } from './engine-service-options.js';

export type { EngineServiceOptions, SharedInversionCache, StartReport } from './engine-service-options.js';

export class EngineService implements EngineApi {
  readonly metrics = new EngineMetrics(() => ({
    queued: this.queue.size,
    running: this.running.size,
    cacheHits: this.cache.hits,
    cacheMisses: this.cache.misses,
  }));
  private readonly throughput = new Throughput();
  private readonly progress: ProgressHub;
  private readonly jobs = new Map<string, Job>();
  private readonly queue: JobQueue<Job> = new FairQueue<Job>();
  private readonly running = new Map<string, Job>();
  /** Finished jobs' results being written beside the ticks (job-completion.ts). */
  private readonly completions: JobCompletions;
  /** Jobs started or completed together take turns for their synchronous disk work (event-loop-turns.ts). */
  private readonly turns = new EventLoopTurns();
  /** Places held by submits in progress (submit-places.ts). */
  private readonly places = new SubmitPlaces();
  private readonly cache: InversionCache;
  private readonly files: JobFiles;
  private stopping = false;
  private draining = false;
  private loop: Promise<void> | null = null;
  /** Queued jobs admitted beside the ticks (job-admission.ts). */
  private readonly admission: JobAdmission;
  private wake: (() => void) | null = null;
  private readonly batches: ModelTurns;
  private readonly finals: FinalStates;
  private readonly log: Logger;

  constructor(private readonly opts: EngineServiceOptions) {
    this.files = new JobFiles(join(opts.dataDir, 'jobs'));
    this.progress = new ProgressHub(opts.previewEvery);
    this.cache = new InversionCache(join(opts.dataDir, 'cache'), opts.cacheMaxBytes);
    this.log = opts.log ?? silentLogger;
    this.finals = new FinalStates({ store: opts.store, files: this.files, jobLog: (id) => this.jobLog(id), reportFinal: (job) => this.reportFinal(job) });
    const { queue, running, places, files, turns, log } = this;
    const wake = (): void => this.wake?.();
    const failJob = (job: Job, e: unknown): void => this.failJob(job, e);
    this.admission = new JobAdmission({
      opts, queue, running, places, log, wake, failJob,
      draining: () => this.draining,
      runningOn: (modelId) => this.batches.runningOn(modelId),
      startJob: (job) => startJob({ opts, files, cache: this.cache, detector: this.detector(), turns }, job),
      join: (job) => {
        this.running.set(job.id, job);
        void this.publish(job);
      },
    });
    this.completions = new JobCompletions({ files, turns, wake, failJob, jobLog: (id) => this.jobLog(id), done: (job) => this.finish(job, 'done', null) });
    this.batches = new ModelTurns(running, this.completions);
  }

  // ---- Lifecycle ---------------------------------------------------------------------------------

  /**
   * Removes what interrupted submits left, applies final states that reached final.json but not the
   * database, recovers persisted jobs (interrupted ones run again) and starts the worker.
   */
  start(): StartReport {
    const store = this.opts.store;
    const left = this.files.removeLeftovers((id) => store.get(id) !== null);
    const removedTempFiles = left.tempFiles + this.cache.removeTempFiles();
    // Before requeueing: a job that ended (final.json) must never go back to the queue.
    const reconciled = this.finals.reconcile((job) => this.jobs.set(job.id, job));
    store.requeueInterrupted();
    let recovered = 0;
    for (const row of store.listUnfinished()) {
      if (this.finals.has(row.id)) continue;
      const request = this.files.request(row.id, row.request);
      if (!request) {
        store.markFailed(row.id, 'IO_FAILED');
        continue;
      }
      const job = new Job(row.id, request);
      this.jobs.set(job.id, job);
      this.queue.push(job);
      recovered++;
    }
    this.loop = this.runLoop();
    return { recovered, reconciled, removedFolders: left.folders, removedTempFiles };
  }

  /** Stops intake; waits up to `ms` for running jobs; queued ones stay persisted for the next start. */
  async drain(ms: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + ms;
    while (this.running.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.admission.settled();
    await this.completions.settled();
    await this.cache.flushed();
    // A last try; what still cannot be recorded was never reported final and runs again at the next start.
    await this.finals.settled();
    this.finals.retry(true);
    await this.finals.settled();
  }

  // ---- API operations ----------------------------------------------------------------------------

  /**
   * Admission from a submit's headers, before its body is read: a known idempotency key is answered, a
   * full queue or owner share refused (429/503 with Retry-After), otherwise a place is held for `submit`.
   */
  reserveSubmit(intent: SubmitIntent): { duplicate: SubmitResponse } | { ticket: SubmitTicket } {
    return reserveSubmit(this.submitContext(), intent);
  }

  /** The time a submit's body took to read and parse (asyrp_submit_stage_seconds, stage "body"). */
  observeSubmitBody(seconds: number): void {
    this.metrics.observeSubmitStage('body', seconds);
  }

  /** A submit; `ticket` is the place reserveSubmit held for it, if its headers were admitted first. */
  submit(req: SubmitInput, ticket?: SubmitTicket): Promise<SubmitResponse> {
    return submitJob(this.submitContext(), req, ticket);
  }

  private submitContext(): SubmitContext {
    const { opts, files, jobs, queue, running, throughput, progress, places } = this;
    const shuttingDown = this.draining || this.stopping;
    return { opts, files, jobs, queue, running, throughput, progress, places, shuttingDown, detector: () => this.detector(), accept: (job) => this.accept(job), observeStage: (stage, seconds) => this.metrics.observeSubmitStage(stage, seconds) };
  }

  /** A submitted job, persisted: it joins the queue. */
  private accept(job: Job): void {
    this.jobs.set(job.id, job);
    this.queue.push(job);
    this.metrics.jobSubmitted();
    this.jobLog(job.id).info('queued', { kind: job.request.kind, model: job.request.model, owner: job.request.owner });
    this.wake?.();
    this.publish(job);
  }

  status(id: string): JobStatus {
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    return job.snapshot(this.queue.position(id), this.eta(job));
  }

  /** A queued job is answered once its cancelled state is recorded (or the attempt failed: then it reads finishing). */
  async cancel(id: string): Promise<JobStatus> {
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    if (job.ended) return this.status(id);
    if (this.queue.remove(id)) {
      this.finish(job, 'cancelled', null);
      await this.finals.attempted(id);
    } else job.cancelRequested = true; // the worker stops it at the next tick boundary
    return this.status(id);
  }

  result(id: string, variant: ResultVariant): { bytes: Buffer; contentType: string } {
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    if (job.state !== 'done') throw new ServiceError('NOT_READY', `job ${id} is ${job.state}; results exist once it is done`);
    const spec = RESULT_FILES[variant];
    if (!spec || !job.results.includes(variant)) throw new ServiceError('NOT_FOUND', `job ${id} has no "${variant}" result; it has ${job.results.join(', ')}`);
    const bytes = this.files.readResult(id, spec.file);
    if (!bytes) throw new ServiceError('NOT_FOUND', `the result of job ${id} is no longer on disk`);
    return { bytes, contentType: spec.contentType };
  }

  /**
   * A result enlarged for display to `displaySize` on its long side when it is smaller (the model's own
   * pixels otherwise): nearest neighbour for tiny models, a smooth filter for larger ones.
   */
  async displayResult(id: string, variant: ResultVariant, displaySize: number): Promise<{ bytes: Buffer; contentType: string }> {
    const original = this.result(id, variant);
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    const resolution = this.opts.models.get(job.request.model)?.manifest.resolution ?? Number.POSITIVE_INFINITY;
    const enlarged = await enlargeForDisplay(original.bytes, displaySize, resolution);
    return enlarged ? { bytes: enlarged, contentType: 'image/png' } : original;
  }

  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): () => void {
    this.status(id); // throws NOT_FOUND for unknown jobs
    return this.progress.subscribe(id, previews, send);
  }

  health(): HealthResponse {
    return {
      status: this.draining || this.stopping ? 'draining' : 'ok',
      version: this.opts.version,
      models: [...this.opts.models.keys()],
      queue: { queued: this.queue.size, running: this.running.size },
    };
  }

  /**
   * Drops a finished job's memory and files: a scale-out worker calls it once the results are in the
   * shared store, so its disk does not fill with results nobody reads here. A job not finished stays.
   */
  forget(id: string): void {
    const job = this.jobs.get(id);
    if (!job?.finished || this.finals.has(id)) return;
    this.jobs.delete(id);
    this.files.remove(id);
  }

  /** Jobs this process holds in memory (queued, running, and finished ones not yet evicted). */
  get jobsInMemory(): number {
    return this.jobs.size;
  }

  models(): ModelInfo[] {
    return describeModels(this.opts.models, this.opts.defaultModel);
  }

  renderMetrics(): Promise<string> {
    return this.metrics.render();
  }

  get metricsContentType(): string {
    return this.metrics.contentType;
  }

  // ---- Worker --------------------------------------------------------------------------------------

  /** The worker: never ends on an error, whatever throws (a failing job fails alone, with a code). */
  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        this.throughput.observe(Date.now(), this.running.size > 0);
        this.finals.retry(false);
        this.evictFinished();
        this.admission.start();
        // A UNet call on this thread (engine.inference "inline", the old path) holds the event loop, so
        // nothing would start beside it: there, jobs are admitted before the tick, as before.
        if (!this.inferenceOffThread) await this.admission.settled();
        const model = this.batches.next();
        if (!model) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, this.finals.size ? RECORD_RETRY_MS : 1000).unref();
          });
          this.wake = null;
          continue;
        }
        await this.tick(model);
      } catch (e) {
        // Not a job's own failure (those are caught where they happen): log it and go on after a pause,
        // so an error that repeats cannot spin the loop.
        this.log.error('worker error (the worker goes on)', { err: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Every model's UNet runs in the inference worker, not on this thread. */
  private get inferenceOffThread(): boolean {
    return [...this.opts.models.values()].every((m) => m.inference.mode === 'worker');
  }

  private async tick(modelId: string): Promise<void> {
    const model = this.opts.models.get(modelId)!;
    const jobs = this.batches.runningOn(modelId);
    // Cancellations and timeouts take effect between steps.
    for (const job of jobs) {
      if (job.cancelRequested) this.finish(job, 'cancelled', null);
      else if (Date.now() - job.startedMs > this.opts.jobTimeoutMs) this.finish(job, 'failed', { code: 'TIMEOUT', message: `the edit took longer than ${Math.round(this.opts.jobTimeoutMs / 1000)} s` });
    }
    const live = jobs.filter((j) => !j.ended);
    const stepsThisTick = live.map((j) => j.active().length);
    const trajectories = live.flatMap((j) => j.active());
    if (trajectories.length) {
      const t0 = performance.now();
      try {
        await stepTogether(model.unet, trajectories);
      } catch (e) {
        for (const job of live) this.failJob(job, e);
        return;
      }
      const ms = performance.now() - t0;
      this.progress.observeStep(ms);
      this.metrics.observeStep(ms / 1000, trajectories.length);
    }
    for (const [i, job] of live.entries()) {
      try {
        job.step += stepsThisTick[i]!;
        generateOnceInverted({ opts: this.opts, cache: this.cache }, job, model);
        if (job.generations.length && job.generations.every((g) => g.done)) {
          const completed = this.completions.begin(job, model);
          // On this thread (inline) a UNet call would hold up the writes' callbacks and the HTTP API
          // behind them: there, as before, the batch waits for its finished jobs' files.
          if (!this.inferenceOffThread) await completed;
        } else await this.publish(job);
      } catch (e) {
        this.failJob(job, e);
      }
    }
  }

  /** A job that threw where no typed failure was expected: it fails with a code, the worker goes on. */
  private failJob(job: Job, e: unknown): void {
    const error = toApiError(e);
    if (error.code === 'INTERNAL') this.jobLog(job.id).error('unexpected error in the worker', { err: e });
    this.finish(job, 'failed', error);
  }

  /**
   * Ends a job: it leaves the queue and the batch at once, and its final state is recorded durably
   * (final.json, then the database row). Only once recorded is it reported final; until then its status
   * reads running/finishing and the recording is retried.
   */
  private finish(job: Job, state: FinalState, error: ApiError | null): void {
    if (job.ended) return;
    job.settle({ state, error, finishedAt: new Date().toISOString() });
    if (this.running.has(job.id)) this.throughput.finished(Date.now());
    this.running.delete(job.id);
    this.queue.remove(job.id);
    job.input = null;
    this.finals.record(job);
    this.wake?.();
  }

  private reportFinal(job: Job): void {
    job.record();
    const s = job.settled!;
    this.metrics.jobFinished(s.state);
    const log = this.jobLog(job.id);
    if (s.state === 'failed') log.warn('failed', { code: s.error?.code ?? 'INTERNAL', reason: s.error?.message });
    else log.info(s.state);
    void this.publish(job);
  }

  /** Finished jobs leave memory after finishedJobTtlMs; status and results are then read from disk. */
  private evictFinished(): void {
    const cutoff = Date.now() - this.opts.finishedJobTtlMs;
    for (const [id, job] of this.jobs) if (job.finished && !this.finals.has(id) && job.recordedMs <= cutoff) this.jobs.delete(id);
  }

  private jobLog(id: string): Logger {
    return this.log.child({ job: id });
  }

  // ---- Progress ----------------------------------------------------------------------------------

  /** Never rejects: a listener or a preview that fails is logged, the job goes on. */
  private publish(job: Job): Promise<void> {
    return this.progress.publish(job, () => job.snapshot(this.queue.position(job.id), this.eta(job))).catch((e: unknown) => {
      this.jobLog(job.id).error('progress update failed', { err: e });
    });
  }

  private eta(job: Job): number | null {
    return this.progress.eta(job, this.queue.position(job.id));
  }

  private detector(): { faceDetector?: FaceDetectorModel } {
    return this.opts.faceDetector ? { faceDetector: this.opts.faceDetector } : {};
  }

  /** A job that finished before this process started. */
  private loadFinished(id: string): Job {
    return loadFinishedJob(id, this.opts.store, this.files);
  }
}
