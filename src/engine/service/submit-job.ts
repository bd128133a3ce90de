/**
 * The submit path: a request is checked cheaply and holds a place (from its headers when they name the
 * owner, before its body is read), is validated in full (recipe, image, domain), persisted (input,
 * database row with the request) and only then joins the queue. A full queue or owner share
 * is refused with a Retry-After from the measured throughput.
 */
import { randomUUID } from 'node:crypto';
import type { SubmitResponse } from '../client/api-types.js';
import { EngineError } from '../errors.js';
import { prepareCheckInput } from '../pipeline/edit-image.js';
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
import { checkFaceIndex, checkKey, checkLabels, checkSize, checkStrengths, checkString, sha256, submittedImage } from './request-validation.js';
import { ServiceError } from './service-error.js';
import type { SubmitPlaces } from './submit-places.js';
import type { SubmitInput, SubmitIntent, SubmitTicket } from './engine-api.js';
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
  readonly places: SubmitPlaces;
  readonly shuttingDown: boolean;
  detector(): { faceDetector?: FaceDetectorModel };
  /** Puts a persisted job in memory and in the queue, and announces it. */
  accept(job: Job): void;
  /** Times a stage of an accepted submit (asyrp_submit_stage_seconds). */
  observeStage?(stage: 'check' | 'input' | 'commit', seconds: number): void;
}

/** The share of a started job's steps still to do (1 before its total is known). */
function remainingShare(j: Job): number {
  return j.total ? Math.max(0, 1 - j.step / j.total) : 1;
}

/**
 * Admission from the headers alone: a repeat of a known idempotency key is answered, a full queue or
 * owner share is refused, and otherwise a place is held for the body that follows. Costs a lookup; the
 * body of a refused submit is never read.
 */
export function reserveSubmit(ctx: SubmitContext, intent: SubmitIntent): { duplicate: SubmitResponse } | { ticket: SubmitTicket } {
  checkOpen(ctx);
  const owner = checkKey(intent.owner, 'owner', 200);
  const idempotencyKey = intent.idempotencyKey === null ? null : checkKey(intent.idempotencyKey, 'idempotencyKey', 200);
  const duplicate = idempotencyKey ? findDuplicate(ctx, idempotencyKey) : null;
  if (duplicate) return { duplicate };
  return { ticket: { intent: { owner, idempotencyKey }, release: takePlace(ctx, owner) } };
}

function checkOpen(ctx: SubmitContext): void {
  if (ctx.shuttingDown) throw new ServiceError('SHUTTING_DOWN', 'the engine is shutting down; try again shortly', { retryAfterMs: 5000 });
}

function findDuplicate(ctx: SubmitContext, idempotencyKey: string): SubmitResponse | null {
  const existing = ctx.opts.store.findByIdempotencyKey(idempotencyKey);
  return existing ? { id: existing.id, state: existing.status, position: ctx.queue.position(existing.id), duplicate: true } : null;
}

/** Checks the room and holds a place in it until the returned function is called. */
function takePlace(ctx: SubmitContext, owner: string): () => void {
  checkRoom(ctx, owner);
  return ctx.places.take(owner);
}

/**
 * A submit: with a `ticket` (its headers were admitted, reserveSubmit) the body must name the same owner
 * and key; without one, the same cheap checks run first here. Either way the place held is given back
 * once the job is in the queue or the submit is refused.
 */
export async function submitJob(ctx: SubmitContext, req: SubmitInput, ticket?: SubmitTicket): Promise<SubmitResponse> {
  let release = ticket?.release;
  try {
    checkOpen(ctx);
    // Cheap checks first: a repeat or a refusal costs a lookup, never a recipe parse or an image decode.
    const owner = checkKey(req.owner, 'owner', 200);
    const idempotencyKey = req.idempotencyKey === undefined || req.idempotencyKey === null ? null : checkKey(req.idempotencyKey, 'idempotencyKey', 200);
    if (ticket) {
      if (owner !== ticket.intent.owner || idempotencyKey !== ticket.intent.idempotencyKey) {
        throw new ServiceError('BAD_REQUEST', 'the body\'s "owner" and "idempotencyKey" must be the ones its x-asyrp-owner and x-asyrp-idempotency-key headers name');
      }
    } else {
      // Same key, same job: answered before any validation work or queue limits.
      const duplicate = idempotencyKey ? findDuplicate(ctx, idempotencyKey) : null;
      if (duplicate) return duplicate;
      release = takePlace(ctx, owner);
    }
    return await validateAndPersist(ctx, req, owner, idempotencyKey);
  } finally {
    release?.();
  }
}

/** The expensive part, run while the submit holds its place: validation, the image, the files, the row. */
async function validateAndPersist(ctx: SubmitContext, req: SubmitInput, owner: string, idempotencyKey: string | null): Promise<SubmitResponse> {
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
  const image = submittedImage(req, ctx.opts.limits.maxInputBytes);
  const id = randomUUID();
  // The input is written and fsynced while the image is checked (the disk and the decode overlap instead
  // of one waiting for the other: about 0.2 s of a burst's 100 submits, docs/benchmarks.md); a check that
  // fails removes it again, and a crash in between leaves a file without a row, removed at the next start.
  const written = ctx.files.writeInput(id, image);
  // Its failure is handled below, after the check: not an unhandled rejection in the meantime.
  written.catch(() => undefined);
  let domain: Awaited<ReturnType<typeof checkDomain>>;
  let since = performance.now();
  const stage = (name: 'check' | 'input' | 'commit') => {
    const now = performance.now();
    ctx.observeStage?.(name, (now - since) / 1000);
    since = now;
  };
  try {
    const prepared = await prepareCheckInput(image, model.manifest, ctx.opts.limits, { faceIndex, ...ctx.detector() });
    domain = await checkDomain({ dir: model.pkg.dir, manifest: model.manifest }, prepared, ctx.opts.checkInference ?? model.inference);
  } catch (e) {
    // The image's own error is the answer, whatever became of the write (a failed one removed its file).
    await written.then(
      () => ctx.files.remove(id),
      () => undefined,
    );
    throw e;
  }
  stage('check');
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
  // The place held since the start keeps the room: no other submit can have taken it meanwhile.
  // The input is durable first; the row (with the request) commits after, in one commit with the rows of
  // other submits of the same turn: a 202 means both survive a kill -9.
  const inputPath = await written;
  stage('input');
  let inserted: { job: StoredJob; created: boolean };
  try {
    inserted = await ctx.opts.store.insert({ id, idempotencyKey, kind, modelId, recipe: request.recipe, inputPath, inputHash: sha256(image), request: JSON.stringify(request) });
  } catch (e) {
    // No row, no input: a refused submit leaves nothing behind.
    ctx.files.remove(id);
    throw e;
  }
  stage('commit');
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
  // Places held by submits in progress count as queued: each of them is about to be.
  const queueSize = ctx.queue.size + ctx.places.size;
  if (queueSize >= ctx.opts.maxQueued) {
    const retryAfterMs = queueWaitMs(queueSize - ctx.opts.maxQueued + 1, rate, ctx.running.size, typical);
    throw new ServiceError('BUSY', `the queue is full (${queueSize} jobs); try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
  const pending = ctx.places.countFor(owner);
  const queued = ctx.queue.countFor(owner) + pending;
  const running = [...ctx.running.values()].filter((j) => j.owner === owner);
  if (queued + running.length >= ctx.opts.maxQueuedPerOwner) {
    const waiting = queued > pending ? ctx.queue.positionsFor(owner) : [];
    // A submit still in progress joins the queue behind what is there now.
    const inProgress = Array.from({ length: pending }, (_, k) => ({ position: ctx.queue.size + k + 1 }));
    const retryAfterMs = ownerWaitMs({
      rate,
      runningRemaining: [...ctx.running.values()].map(remainingShare),
      ownerJobs: [...running.map((j) => ({ remaining: remainingShare(j) })), ...waiting.map((position) => ({ position })), ...inProgress],
      ownerNeeds: queued + running.length - ctx.opts.maxQueuedPerOwner + 1,
      typicalJobMs: typical,
    });
    throw new ServiceError('OWNER_LIMIT', `you already have ${ctx.opts.maxQueuedPerOwner} edits waiting; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
