/**
 * The submit path of an API node: the same checks as the single engine (src/engine/service/submit-job.ts)
 * in the same order (the idempotency key, the caps, then the model, the fields, the recipe against the
 * directions live workers advertise, the image header), then the input goes to the blob store and the job
 * to its model's BullMQ queue with a fairness priority. An API node holds no model, so what needs one
 * (decoding every pixel, finding a face, the domain check) is the worker's, and fails the job there with
 * the same codes.
 */
import type { Redis } from 'ioredis';
import type { SubmitRequest, SubmitResponse } from '../client/api-types.js';
import { EngineError } from '../errors.js';
import { checkImageHeader, type ImageLimits } from '../image/image-io.js';
import { formatRecipe, parseRecipe } from '../recipe/parse-recipe.js';
import { DEFAULT_SWEEP } from '../service/job.js';
import { checkFaceIndex, checkKey, checkLabels, checkSize, checkStrengths, checkString, submittedImage } from '../service/request-validation.js';
import type { SubmitInput } from '../service/engine-api.js';
import { ServiceError } from '../service/service-error.js';
import type { BlobStore } from './blob-store.js';
import { clusterJobData, clusterKeys, idempotentJobId, newJobId } from './contract.js';
import type { FairRounds } from './fair-rounds.js';
import { apiKeys, type ClusterQueues } from './cluster-queues.js';
import type { ClusterRoom } from './cluster-room.js';
import type { WorkerDirectory } from './worker-directory.js';

export interface SubmitOptions {
  readonly redis: Redis;
  readonly queues: ClusterQueues;
  readonly blobs: BlobStore;
  readonly fair: FairRounds;
  readonly directory: WorkerDirectory;
  readonly room: ClusterRoom;
  readonly limits: ImageLimits;
  readonly maxBatch: number;
  readonly defaultModel: string | null;
  readonly blobTtlSeconds: number;
}

export async function submitClusterJob(o: SubmitOptions, req: SubmitInput, existing: (id: string) => Promise<SubmitResponse | null>): Promise<SubmitResponse> {
  const prefix = o.queues.prefix;
  const owner = checkKey(req.owner, 'owner', 200);
  const idempotencyKey = req.idempotencyKey === undefined || req.idempotencyKey === null ? null : checkKey(req.idempotencyKey, 'idempotencyKey', 200);
  // The id is derived from the key, so a repeat is found by any API node before any validation work.
  const id = idempotencyKey ? idempotentJobId(owner, idempotencyKey) : newJobId();
  if (idempotencyKey) {
    const earlier = await existing(id);
    if (earlier) return earlier;
  }
  await o.room.check(owner);

  let models = await o.directory.models(o.defaultModel);
  const wanted = req.model ?? models.find((m) => m.isDefault)?.id ?? o.defaultModel;
  let model = models.find((m) => m.id === wanted);
  if (!model) {
    // A worker may have just come up: look again before refusing.
    o.directory.refresh();
    models = await o.directory.models(o.defaultModel);
    model = models.find((m) => m.id === (req.model ?? models.find((x) => x.isDefault)?.id));
  }
  if (!model) {
    const served = models.map((m) => m.id).join(', ') || 'none';
    throw new EngineError('MODEL_NOT_FOUND', wanted ? `model "${wanted}" is not available: no worker serves it (served now: ${served})` : 'no model is available: no worker is running');
  }
  const kind = req.kind ?? 'edit';
  if (!['edit', 'compare', 'sweep'].includes(kind)) throw new ServiceError('BAD_REQUEST', `kind must be edit, compare or sweep; got "${String(kind).slice(0, 20)}"`);
  const strengths = kind === 'sweep' ? checkStrengths(req.strengths ?? DEFAULT_SWEEP, o.maxBatch) : undefined;
  const size = req.size === undefined || req.size === null ? undefined : checkSize(req.size);
  const faceIndex = req.faceIndex === undefined ? undefined : checkFaceIndex(req.faceIndex);
  const labels = checkLabels(req.labels ?? {});
  const recipe = formatRecipe(parseRecipe(checkString(req.recipe ?? '', 'recipe', 500, true), { directions: model.directions.map((d) => d.name) }));
  if (!recipe) throw new ServiceError('BAD_REQUEST', 'the recipe is empty: say what to change, e.g. "smile:0.8" (or at least "steps:40")');
  const image = submittedImage(req, o.limits.maxInputBytes);
  await checkImageHeader(image, o.limits);
  // Other submits ran while this one was checked: the room may be gone.
  await o.room.check(owner);

  const modelId = model.id;
  const claim = apiKeys.jobModel(prefix, id);
  // NX: of two nodes given the same key at once, one queues the job and the other answers with it.
  const claimed = await o.redis.set(claim, modelId, 'EX', o.blobTtlSeconds, 'NX');
  if (claimed !== 'OK') {
    const earlier = await existing(id);
    return earlier ?? { id, state: 'queued', position: 0, duplicate: true };
  }
  const inputKey = clusterKeys.blob(prefix, id, 'input');
  const ownerKey = clusterKeys.owner(prefix, owner);
  try {
    await o.blobs.put(inputKey, image, o.blobTtlSeconds);
    await o.redis.multi().sadd(ownerKey, id).sadd(apiKeys.queues(prefix), modelId).exec();
    const { round, priority } = await o.fair.assign(modelId, owner);
    const { imageBase64: _b64, imageBytes: _bytes, ...fields } = req;
    const normalized: Omit<SubmitRequest, 'imageBase64'> = { ...fields, owner, recipe, kind, labels, ...(strengths ? { strengths } : {}), ...(size !== undefined ? { size } : {}), ...(faceIndex !== undefined ? { faceIndex } : {}) };
    const data = clusterJobData(normalized, { modelId, inputKey, submittedAt: Date.now(), round });
    const age = o.blobTtlSeconds;
    await o.queues.queue(modelId).add('edit', data, { jobId: id, priority, removeOnComplete: { age }, removeOnFail: { age } });
  } catch (e) {
    // Nothing half-made stays behind: no claim, no input, no owner entry.
    await o.redis.multi().del(claim, inputKey).srem(ownerKey, id).exec().catch(() => undefined);
    throw e;
  }
  return { id, state: 'queued', position: await o.queues.position(modelId, id), duplicate: false };
}
