/**
 * A job's two hand-overs into the batch loop's trajectories: its start (the input read and decoded, the
 * recipe planned, the inversion looked up in the local cache and then the shared one, so a re-edit skips
 * inversion) and, for a job that had to invert, the switch from its inversion to its generations once
 * x_T is known (cached locally and shared).
 */
import { EngineError } from '../errors.js';
import type { LoadedModel } from '../loaded-model.js';
import type { FaceDetectorModel } from '../onnx/face-detector-session.js';
import { prepareInput } from '../pipeline/edit-image.js';
import { planEdit } from '../pipeline/edit-plan.js';
import { inversionTrajectory } from '../pipeline/run-edit.js';
import { parseRecipe } from '../recipe/parse-recipe.js';
import type { EngineServiceOptions } from './engine-service-options.js';
import type { EventLoopTurns } from './event-loop-turns.js';
import { InversionCache } from './inversion-cache.js';
import type { Job } from './job.js';
import type { JobFiles } from './job-files.js';
import { generationTrajectories } from './job-trajectories.js';
import { sha256 } from './request-validation.js';

export interface JobStartContext {
  readonly opts: Pick<EngineServiceOptions, 'models' | 'limits' | 'store' | 'sharedCache'>;
  readonly files: JobFiles;
  readonly cache: InversionCache;
  readonly detector: { faceDetector?: FaceDetectorModel };
  /** Jobs started together take turns for the database commit that marks them running. */
  readonly turns?: EventLoopTurns;
}

/** Prepares a queued job to run: it is marked running, with its inversion or (cached x_T) its generations. */
export async function startJob(ctx: JobStartContext, job: Job): Promise<void> {
  const { opts, files, cache } = ctx;
  const model = opts.models.get(job.request.model);
  if (!model) throw new EngineError('MODEL_NOT_FOUND', `model "${job.request.model}" is no longer loaded`);
  const image = files.readInput(job.id);
  const recipe = parseRecipe(job.request.recipe, { directions: model.directionNames() });
  const plan = planEdit(model.manifest, recipe, (n) => model.direction(n));
  const input = await prepareInput(image, model.manifest, opts.limits, { faceIndex: job.request.faceIndex ?? 0, ...ctx.detector });
  await ctx.turns?.next();
  job.start(input, plan);
  opts.store.markRunning(job.id);
  const tMax = model.manifest.schedule.trainSteps - 1;
  job.cacheKey = InversionCache.key(model.manifest.id, sha256(input.rgb.data), plan.inversionSteps, plan.inversionRefinement);
  let xT = cache.get(job.cacheKey, input.tensor.length);
  if (!xT && opts.sharedCache) {
    xT = await opts.sharedCache.get(model.manifest.id, job.cacheKey, input.tensor.length);
    if (xT) void cache.put(job.cacheKey, xT);
  }
  job.total = job.width * plan.generationSteps;
  if (xT) {
    job.cacheHit = true;
    job.generations = generationTrajectories(xT, plan, job.request.strengths, model);
  } else {
    job.inversion = inversionTrajectory(input.tensor, plan, model.alphasBar, tMax);
    job.total += job.inversion.totalSteps;
  }
}

/** After a step: a job whose inversion just ended caches x_T (locally and shared) and starts its generations. */
export function generateOnceInverted(ctx: Pick<JobStartContext, 'opts' | 'cache'>, job: Job, model: LoadedModel): void {
  if (!job.inversion?.done || job.generations.length) return;
  const xT = Float32Array.from(job.inversion.x);
  void ctx.cache.put(job.cacheKey, xT);
  ctx.opts.sharedCache?.put(model.manifest.id, job.cacheKey, xT);
  job.generations = generationTrajectories(xT, job.plan!, job.request.strengths, model);
}
