/**
 * The engine service: accepts jobs, persists them, and runs them with continuous batching. Every tick
 * makes one UNet call per model holding the current step of every running sample of that model (each
 * with its own t and Δh); jobs join and leave between ticks. Queued jobs are admitted round robin by
 * owner. A job is persisted when accepted, so a restart resumes it.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ApiError, HealthResponse, JobEvent, JobStatus, ModelInfo, ResultVariant, SubmitRequest, SubmitResponse } from '../client/api-types.js';
import { EngineError } from '../errors.js';
import { stepTogether } from '../diffusion/batch-runner.js';
import type { LoadedModel } from '../loaded-model.js';
import { prepareInput } from '../pipeline/edit-image.js';
import { planEdit } from '../pipeline/edit-plan.js';
import { inversionTrajectory } from '../pipeline/run-edit.js';
import { formatRecipe, parseRecipe } from '../recipe/parse-recipe.js';
import { JobFiles } from './job-files.js';
import { generationTrajectories } from './job-trajectories.js';
import { FairQueue, type JobQueue } from './fair-queue.js';
import { InversionCache } from './inversion-cache.js';
import { DEFAULT_SWEEP, Job, type JobRequest } from './job.js';
import { RESULT_FILES, writeJobResults } from './job-results.js';
import { ProgressHub } from './job-progress.js';
import { EngineMetrics } from './metrics.js';
import { ServiceError, toApiError } from './service-error.js';
import { loadFinishedJob } from './finished-job.js';
import { describeModels } from './model-info.js';
import { checkFaceIndex, checkLabels, checkSize, checkStrengths, checkString, decodeBase64, sha256 } from './request-validation.js';
import type { JobStore } from './job-store.js';
import { silentLogger, type Logger } from '../../log/logger.js';

export interface EngineServiceOptions {
  readonly models: ReadonlyMap<string, LoadedModel>;
  readonly defaultModel: string;
  readonly store: JobStore;
  /** Folder for job inputs and results (data/jobs) and the inversion cache (data/cache). */
  readonly dataDir: string;
  readonly limits: { readonly maxInputBytes: number; readonly maxInputPixels: number };
  /** Samples per UNet call. */
  readonly maxBatch: number;
  readonly maxQueued: number;
  readonly maxQueuedPerOwner: number;
  readonly maxRunningPerOwner: number;
  readonly jobTimeoutMs: number;
  readonly cacheMaxBytes: number;
  /** A preview PNG every this many steps when a client asks for previews. */
  readonly previewEvery: number;
  readonly version: string;
  /** Job lines carry the job's id (a child logger per job). */
  readonly log?: Logger;
}

export class EngineService {
  readonly metrics = new EngineMetrics(() => ({
    queued: this.queue.size,
    running: this.running.size,
    cacheHits: this.cache.hits,
    cacheMisses: this.cache.misses,
  }));
  private readonly progress: ProgressHub;
  private readonly jobs = new Map<string, Job>();
  private readonly queue: JobQueue<Job> = new FairQueue<Job>();
  private readonly running = new Map<string, Job>();
  private readonly cache: InversionCache;
  private readonly files: JobFiles;
  private stopping = false;
  private draining = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private modelTurn = 0;

  constructor(private readonly opts: EngineServiceOptions) {
    this.files = new JobFiles(join(opts.dataDir, 'jobs'));
    this.progress = new ProgressHub(opts.previewEvery);
    this.cache = new InversionCache(join(opts.dataDir, 'cache'), opts.cacheMaxBytes);
  }

  // ---- Lifecycle ---------------------------------------------------------------------------------

  /** Recovers persisted jobs (interrupted ones run again) and starts the worker. */
  start(): { recovered: number } {
    this.opts.store.requeueInterrupted();
    let recovered = 0;
    for (const row of this.opts.store.listUnfinished()) {
      const request = this.files.readRequest(row.id);
      if (!request) {
        this.opts.store.markFailed(row.id, 'IO_FAILED');
        continue;
      }
      const job = new Job(row.id, request);
      this.jobs.set(job.id, job);
      this.queue.push(job);
      recovered++;
    }
    this.loop = this.runLoop();
    return { recovered };
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
  }

  // ---- API operations ----------------------------------------------------------------------------

  async submit(req: SubmitRequest): Promise<SubmitResponse> {
    if (this.draining || this.stopping) throw new ServiceError('SHUTTING_DOWN', 'the engine is shutting down; try again shortly', { retryAfterMs: 5000 });
    const owner = checkString(req.owner, 'owner', 200);
    const modelId = req.model ?? this.opts.defaultModel;
    const model = this.opts.models.get(modelId);
    if (!model) throw new EngineError('MODEL_NOT_FOUND', `model "${modelId}" is not loaded; loaded: ${[...this.opts.models.keys()].join(', ')}`);
    const kind = req.kind ?? 'edit';
    if (!['edit', 'compare', 'sweep'].includes(kind)) throw new ServiceError('BAD_REQUEST', `kind must be edit, compare or sweep; got "${String(kind).slice(0, 20)}"`);
    const strengths = kind === 'sweep' ? checkStrengths(req.strengths ?? DEFAULT_SWEEP, this.opts.maxBatch) : [1];
    const size = req.size === undefined || req.size === null ? null : checkSize(req.size);
    const faceIndex = req.faceIndex === undefined ? 0 : checkFaceIndex(req.faceIndex);
    const idempotencyKey = req.idempotencyKey === undefined ? null : checkString(req.idempotencyKey, 'idempotencyKey', 200);

    // Same key, same job: answered before any validation work or queue limits.
    if (idempotencyKey) {
      const existing = this.opts.store.findByIdempotencyKey(idempotencyKey);
      if (existing) return { id: existing.id, state: existing.status, position: this.queue.position(existing.id), duplicate: true };
    }
    // Validate everything before queueing: a bad recipe or image never takes a place in the queue.
    const recipe = parseRecipe(checkString(req.recipe ?? '', 'recipe', 500, true), { directions: model.directionNames() });
    planEdit(model.manifest, recipe, (n) => model.direction(n));
    const image = decodeBase64(req.imageBase64, this.opts.limits.maxInputBytes);
    await prepareInput(image, model.manifest, this.opts.limits, { faceIndex });

    if (this.queue.size >= this.opts.maxQueued) {
      throw new ServiceError('BUSY', `the queue is full (${this.queue.size} jobs); try again in a minute`, { retryAfterMs: this.progress.retryAfter(this.queue.size) });
    }
    if (this.queue.countFor(owner) + [...this.running.values()].filter((j) => j.owner === owner).length >= this.opts.maxQueuedPerOwner) {
      throw new ServiceError('OWNER_LIMIT', `you already have ${this.opts.maxQueuedPerOwner} edits waiting; wait for one to finish`, { retryAfterMs: this.progress.retryAfter(this.queue.size) });
    }

    const id = randomUUID();
    const request: JobRequest = {
      kind,
      owner,
      recipe: formatRecipe(recipe),
      model: modelId,
      strengths,
      size,
      faceIndex,
      labels: checkLabels(req.labels ?? {}),
      idempotencyKey,
      createdAt: new Date().toISOString(),
    };
    const inputPath = this.files.write(id, image, request);
    const { job: row, created } = this.opts.store.insert({ id, idempotencyKey, kind, modelId, recipe: request.recipe, inputPath, inputHash: sha256(image) });
    if (!created) {
      // Lost a race with the same key: the other submission's job stands.
      this.files.remove(id);
      return { id: row.id, state: row.status, position: this.queue.position(row.id), duplicate: true };
    }
    const job = new Job(id, request);
    this.jobs.set(id, job);
    this.queue.push(job);
    this.metrics.jobSubmitted();
    this.jobLog(id).info('queued', { kind, model: modelId, owner });
    this.wake?.();
    this.publish(job);
    return { id, state: 'queued', position: this.queue.position(id), duplicate: false };
  }

  status(id: string): JobStatus {
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    return job.snapshot(this.queue.position(id), this.eta(job));
  }

  cancel(id: string): JobStatus {
    const job = this.jobs.get(id) ?? this.loadFinished(id);
    if (job.finished) return this.status(id);
    if (this.queue.remove(id)) this.finish(job, 'cancelled', null);
    else job.cancelRequested = true; // the worker stops it at the next tick boundary
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

  models(): ModelInfo[] {
    return describeModels(this.opts.models, this.opts.defaultModel);
  }

  renderMetrics(): Promise<string> {
    return this.metrics.render();
  }

  // ---- Worker --------------------------------------------------------------------------------------

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      await this.admit();
      const model = this.nextModel();
      if (!model) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        this.wake = null;
        continue;
      }
      await this.tick(model);
    }
  }

  private runningOn(modelId: string): Job[] {
    return [...this.running.values()].filter((j) => j.request.model === modelId);
  }

  private nextModel(): string | undefined {
    const ids = [...new Set([...this.running.values()].map((j) => j.request.model))];
    if (!ids.length) return undefined;
    return ids[this.modelTurn++ % ids.length];
  }

  /** Moves queued jobs into the running set while their model's batch has room, round robin by owner. */
  private async admit(): Promise<void> {
    if (this.draining) return;
    for (;;) {
      const job = this.queue.shift((j) => {
        const load = this.runningOn(j.request.model).reduce((n, r) => n + r.width, 0);
        const ownerRunning = [...this.running.values()].filter((r) => r.owner === j.owner).length;
        return load + j.width <= this.opts.maxBatch && ownerRunning < this.opts.maxRunningPerOwner;
      });
      if (!job) return;
      try {
        await this.startJob(job);
      } catch (e) {
        this.finish(job, 'failed', toApiError(e));
      }
    }
  }

  private async startJob(job: Job): Promise<void> {
    const model = this.opts.models.get(job.request.model);
    if (!model) throw new EngineError('MODEL_NOT_FOUND', `model "${job.request.model}" is no longer loaded`);
    const image = this.files.readInput(job.id);
    const recipe = parseRecipe(job.request.recipe, { directions: model.directionNames() });
    const plan = planEdit(model.manifest, recipe, (n) => model.direction(n));
    job.input = await prepareInput(image, model.manifest, this.opts.limits, { faceIndex: job.request.faceIndex ?? 0 });
    job.plan = plan;
    job.state = 'running';
    job.phase = 'inversion';
    job.startedAt = new Date().toISOString();
    job.startedMs = Date.now();
    this.opts.store.markRunning(job.id);
    const tMax = model.manifest.schedule.trainSteps - 1;
    job.cacheKey = InversionCache.key(model.manifest.id, sha256(job.input.rgb.data), plan.inversionSteps, plan.inversionRefinement);
    const xT = this.cache.get(job.cacheKey, job.input.tensor.length);
    job.total = job.width * plan.generationSteps;
    if (xT) {
      job.cacheHit = true;
      this.startGeneration(job, xT, model);
    } else {
      job.inversion = inversionTrajectory(job.input.tensor, plan, model.alphasBar, tMax);
      job.total += job.inversion.totalSteps;
    }
    this.running.set(job.id, job);
    this.publish(job);
  }

  private startGeneration(job: Job, xT: Float32Array, model: LoadedModel): void {
    job.generations = generationTrajectories(xT, job.plan!, job.request.strengths, model);
  }

  private async tick(modelId: string): Promise<void> {
    const model = this.opts.models.get(modelId)!;
    const jobs = this.runningOn(modelId);
    // Cancellations and timeouts take effect between steps.
    for (const job of jobs) {
      if (job.cancelRequested) this.finish(job, 'cancelled', null);
      else if (Date.now() - job.startedMs > this.opts.jobTimeoutMs) this.finish(job, 'failed', { code: 'TIMEOUT', message: `the edit took longer than ${Math.round(this.opts.jobTimeoutMs / 1000)} s` });
    }
    const live = jobs.filter((j) => !j.finished);
    const stepsThisTick = live.map((j) => j.active().length);
    const trajectories = live.flatMap((j) => j.active());
    if (trajectories.length) {
      const t0 = performance.now();
      try {
        await stepTogether(model.unet, trajectories);
      } catch (e) {
        for (const job of live) this.finish(job, 'failed', toApiError(e));
        return;
      }
      const ms = performance.now() - t0;
      this.progress.observeStep(ms);
      this.metrics.observeStep(ms / 1000, trajectories.length);
    }
    for (const [i, job] of live.entries()) {
      job.step += stepsThisTick[i]!;
      if (job.inversion?.done && job.generations.length === 0) {
        const xT = Float32Array.from(job.inversion.x);
        this.cache.put(job.cacheKey, xT);
        this.startGeneration(job, xT, model);
      }
      if (job.generations.length && job.generations.every((g) => g.done)) await this.complete(job, model);
      else await this.publish(job);
    }
  }

  private async complete(job: Job, model: LoadedModel): Promise<void> {
    job.phase = 'encoding';
    try {
      job.results = await writeJobResults(job, this.files.dir(job.id), model.manifest.resolution);
      this.finish(job, 'done', null);
    } catch (e) {
      this.finish(job, 'failed', toApiError(e));
    }
  }

  private finish(job: Job, state: 'done' | 'failed' | 'cancelled', error: ApiError | null): void {
    if (job.finished) return;
    job.state = state;
    job.phase = 'finished';
    job.error = error;
    job.finishedAt = new Date().toISOString();
    this.running.delete(job.id);
    this.queue.remove(job.id);
    // Free the tensors; the status stays answerable.
    job.inversion = null;
    job.generations = [];
    job.input = null;
    try {
      if (state === 'done') this.opts.store.markDone(job.id, this.files.dir(job.id), job.results);
      else if (state === 'failed') this.opts.store.markFailed(job.id, error?.code ?? 'INTERNAL');
      else this.opts.store.markCancelled(job.id);
    } catch {
      // The in-memory state is still right; a restart would re-run the job rather than lose it.
    }
    this.metrics.jobFinished(state);
    const log = this.jobLog(job.id);
    if (state === 'failed') log.warn('failed', { code: error?.code ?? 'INTERNAL', reason: error?.message });
    else log.info(state);
    void this.publish(job);
    this.wake?.();
  }

  private jobLog(id: string): Logger {
    return (this.opts.log ?? silentLogger).child({ job: id });
  }

  // ---- Progress ----------------------------------------------------------------------------------

  private publish(job: Job): Promise<void> {
    return this.progress.publish(job, () => job.snapshot(this.queue.position(job.id), this.eta(job)));
  }

  private eta(job: Job): number | null {
    return this.progress.eta(job, this.queue.position(job.id));
  }

  /** A job that finished before this process started. */
  private loadFinished(id: string): Job {
    return loadFinishedJob(id, this.opts.store, this.files);
  }
}
