/**
 * The submit path: a request is checked cheaply, validated in full (recipe, image, domain), persisted
 * (input, request, database row) and only then takes a place in the queue. A full queue or owner share
 * is refused with a Retry-After from the measured throughput.
 */
import { randomUUID } from 'node:crypto';
import type { SubmitRequest, SubmitResponse } from '../client/api-types.js';
import { EngineError } from '../errors.js';
import { prepareInput } from '../pipeline/edit-image.js';
import { planEdit } from '../pipeline/edit-plan.js';
import { checkDomain } from '../pipeline/domain-check.js';
import { formatRecipe, parseRecipe } from '../recipe/parse-recipe.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import type { EngineServiceOptions } from './engine-service-options.js';
import type { JobQueue } from './fair-queue.js';
import type { JobFiles } from './job-files.js';
import type { ProgressHub } from './job-progress.js';
import type { StoredJob } from './job-store.js';
import { DEFAULT_SWEEP, Job, type JobRequest } from './job.js';
import { checkFaceIndex, checkKey, checkLabels, checkSize, checkStrengths, checkString, decodeBase64, sha256 } from './request-validation.js';
import { ServiceError } from './service-error.js';
import { ownerWaitMs, queueWaitMs, type Throughput } from './throughput.js';

/** What a submit reads of the engine service, and how it hands over an accepted job. */
export interface SubmitContext {
  readonly opts: EngineServiceOptions;
  readonly files: JobFiles;
  readonly jobs: ReadonlyMap<string, Job>;
  readonly queue: JobQueue<Job>;
  readonly running: ReadonlyMap<string, Job>;
  readonly throughput: Throughput;
  readonly progress: ProgressHub;
  readonly shuttingDown: boolean;
  detector(): { faceDetector?: FaceDetectorModel };
  /** Puts a persisted job in memory and in the queue, and announces it. */
  accept(job: Job): void;
}

/** The share of a started job's steps still to do (1 before its total is known). */
function remainingShare(j: Job): number {
  return j.total ? Math.max(0, 1 - j.step / j.total) : 1;
}

export async function submitJob(ctx: SubmitContext, req: SubmitRequest): Promise<SubmitResponse> {
  if (ctx.shuttingDown) throw new ServiceError('SHUTTING_DOWN', 'the engine is shutting down; try again shortly', { retryAfterMs: 5000 });
  // Cheap checks first: a repeat or a refusal costs a lookup, never a recipe parse or an image decode.
  const owner = checkKey(req.owner, 'owner', 200);
  const idempotencyKey = req.idempotencyKey === undefined || req.idempotencyKey === null ? null : checkKey(req.idempotencyKey, 'idempotencyKey', 200);
  // Same key, same job: answered before any validation work or queue limits.
  if (idempotencyKey) {
    const existing = ctx.opts.store.findByIdempotencyKey(idempotencyKey);
    if (existing) return { id: existing.id, state: existing.status, position: ctx.queue.position(existing.id), duplicate: true };
  }
  checkRoom(ctx, owner);

  const modelId = req.model ?? ctx.opts.defaultModel;
  const model = ctx.opts.models.get(modelId);
  if (!model) throw new EngineError('MODEL_NOT_FOUND', `model "${modelId}" is not loaded; loaded: ${[...ctx.opts.models.keys()].join(', ')}`);
  const kind = req.kind ?? 'edit';
  if (!['edit', 'compare', 'sweep'].includes(kind)) throw new ServiceError('BAD_REQUEST', `kind must be edit, compare or sweep; got "${String(kind).slice(0, 20)}"`);
  const strengths = kind === 'sweep' ? checkStrengths(req.strengths ?? DEFAULT_SWEEP, ctx.opts.maxBatch) : [1];
  const size = req.size === undefined || req.size === null ? null : checkSize(req.size);
  const faceIndex = req.faceIndex === undefined ? 0 : checkFaceIndex(req.faceIndex);
  const labels = checkLabels(req.labels ?? {});

  // Validate everything before queueing: a bad recipe or image never takes a place in the queue.
  const recipe = parseRecipe(checkString(req.recipe ?? '', 'recipe', 500, true), { directions: model.directionNames() });
  const recipeText = formatRecipe(recipe);
  if (!recipeText) throw new ServiceError('BAD_REQUEST', 'the recipe is empty: say what to change, e.g. "smile:0.8" (or at least "steps:40")');
  planEdit(model.manifest, recipe, (n) => model.direction(n));
  const image = decodeBase64(req.imageBase64, ctx.opts.limits.maxInputBytes);
  const prepared = await prepareInput(image, model.manifest, ctx.opts.limits, { faceIndex, ...ctx.detector() });
  const domain = await checkDomain({ dir: model.pkg.dir, manifest: model.manifest }, prepared);
  // Other submits ran while the image was decoded: the room may be gone.
  checkRoom(ctx, owner);

  const id = randomUUID();
  const request: JobRequest = {
    kind,
    owner,
    recipe: recipeText,
    model: modelId,
    strengths,
    size,
    faceIndex,
    labels,
    idempotencyKey,
    createdAt: new Date().toISOString(),
    ...(domain ? { domainNote: domain.text } : {}),
  };
  const inputPath = await ctx.files.write(id, image, request);
  // The write yielded to other submits too: check the room again before the job takes a place.
  try {
    checkRoom(ctx, owner);
  } catch (e) {
    ctx.files.remove(id);
    throw e;
  }
  let inserted: { job: StoredJob; created: boolean };
  try {
    inserted = ctx.opts.store.insert({ id, idempotencyKey, kind, modelId, recipe: request.recipe, inputPath, inputHash: sha256(image) });
  } catch (e) {
    // No row, no folder: a refused submit leaves nothing behind.
    ctx.files.remove(id);
    throw e;
  }
  const { job: row, created } = inserted;
  if (!created) {
    // Lost a race with the same key: the other submission's job stands.
    ctx.files.remove(id);
    return { id: row.id, state: row.status, position: ctx.queue.position(row.id), duplicate: true };
  }
  ctx.accept(new Job(id, request));
  return { id, state: 'queued', position: ctx.queue.position(id), duplicate: false };
}

/**
 * Refuses a submit when the queue or the owner's share of it is full, with a Retry-After from the
 * measured throughput and the owner's own jobs (throughput.ts).
 */
function checkRoom(ctx: SubmitContext, owner: string): void {
  const rate = ctx.throughput.rate(Date.now());
  const typical = ctx.progress.typicalJobMs();
  if (ctx.queue.size >= ctx.opts.maxQueued) {
    const retryAfterMs = queueWaitMs(ctx.queue.size - ctx.opts.maxQueued + 1, rate, ctx.running.size, typical);
    throw new ServiceError('BUSY', `the queue is full (${ctx.queue.size} jobs); try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
  const queued = ctx.queue.countFor(owner);
  const running = [...ctx.running.values()].filter((j) => j.owner === owner);
  if (queued + running.length >= ctx.opts.maxQueuedPerOwner) {
    const waiting = queued ? [...ctx.jobs.values()].filter((j) => j.owner === owner && j.state === 'queued' && !j.ended) : [];
    const retryAfterMs = ownerWaitMs({
      rate,
      runningRemaining: [...ctx.running.values()].map(remainingShare),
      ownerJobs: [...running.map((j) => ({ remaining: remainingShare(j) })), ...waiting.map((j) => ({ position: ctx.queue.position(j.id) }))],
      ownerNeeds: queued + running.length - ctx.opts.maxQueuedPerOwner + 1,
      typicalJobMs: typical,
    });
    throw new ServiceError('OWNER_LIMIT', `you already have ${ctx.opts.maxQueuedPerOwner} edits waiting; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
