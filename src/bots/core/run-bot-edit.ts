/**
 * One edit from start to result: record it in history, submit it to the engine (with an idempotency
 * key, so a redelivered event never runs twice), follow its progress into throttled status text, fetch
 * the results, store them, and close the history row. Errors come out as UserFacingError.
 */
import type { JobKind } from '../../engine/client/api-types.js';
import { EngineClientError } from '../../engine/client/engine-client.js';
import type { Actor } from '../../storage/index.js';
import { engineOwner } from './actors.js';
import { describeForLog } from './friendly-errors.js';
import { finishJob, type FinishedEdit } from './finish-job.js';
import { HandedOver } from './handed-over.js';
import type { ImageStore } from './image-store.js';
import { StatusThrottle, statusText } from './status-text.js';
import { followJob } from './follow-job.js';
import type { CoreDeps, EditLocation, Requester } from './types.js';
import { UserFacingError } from './user-facing-error.js';

export interface EditJob {
  readonly requester: Requester;
  readonly actor: Actor;
  readonly input: { readonly path: string; readonly hash: string };
  /** Directions only (resolved). */
  readonly recipe: string;
  readonly modelId: string;
  readonly presetId?: number | null;
  readonly parentId?: number | null;
  readonly kind?: JobKind;
  readonly idempotencyKey: string;
  readonly location: EditLocation;
  /** Status lines, already throttled to one per 1.5 s. */
  readonly onStatus?: (text: string) => Promise<void>;
  readonly statusIntervalMs?: number;
  /** Called once the engine accepted the job: adapters record it to resume after a restart. */
  readonly onSubmitted?: (job: { editId: number; jobId: string }) => void;
  /**
   * Aborted when the bot shuts down: an edit already submitted stops being followed and throws
   * HandedOver (it is on the pending list; the next start finishes it). Work before the submission
   * (recording, reading the input) is not interrupted, so an edit that reaches the engine is handed over.
   */
  readonly signal?: AbortSignal;
}

/** What an edit gives the platform to post: the finished edit as finish-job.ts makes it. */
export type EditOutcome = FinishedEdit;

export async function runBotEdit(deps: CoreDeps, images: ImageStore, job: EditJob): Promise<EditOutcome> {
  const { storage, engine } = deps;
  const kind = job.kind ?? 'edit';
  const entry = storage.history.record({
    accountId: job.actor.accountId,
    platform: job.requester.platform,
    serverId: job.requester.serverId,
    channelId: job.location.channelId,
    threadId: job.location.threadId ?? null,
    messageId: null,
    inputHash: job.input.hash,
    inputPath: job.input.path,
    recipe: job.recipe,
    presetId: job.presetId ?? null,
    modelId: job.modelId,
    parentId: job.parentId ?? null,
  });
  const throttle = new StatusThrottle(job.onStatus ?? (async () => undefined), job.statusIntervalMs ?? 1500, deps.now);
  try {
    const submitted = await engine.submit({
      // The bytes as stored: the engine client sends them as they are (multipart), not as base64.
      image: images.read(job.input.path),
      recipe: job.recipe,
      model: job.modelId,
      owner: engineOwner(job.requester),
      idempotencyKey: job.idempotencyKey,
      kind,
      labels: { edit: String(entry.id), platform: job.requester.platform },
    });
    throttle.update(statusText({ state: submitted.state, phase: 'queued', position: submitted.position, step: 0, total: 0, cacheHit: false }));
    storage.history.markStarted(entry.id);
    job.onSubmitted?.({ editId: entry.id, jobId: submitted.id });
    const final = await followJob(engine, submitted.id, (e) => throttle.update(statusText(e.status)), job.signal ? { signal: job.signal } : {});
    await throttle.settle();
    return await finishJob(deps, images, { editId: entry.id, jobId: submitted.id, kind, final });
  } catch (e) {
    await throttle.settle();
    if (e instanceof HandedOver) throw e; // still running in the engine: the history row stays open
    const current = storage.history.get(job.actor, entry.id);
    if (current.status === 'queued' || current.status === 'running') {
      storage.history.finish(entry.id, { status: 'failed', errorCode: e instanceof EngineClientError ? e.code : 'BOT_ERROR' });
    }
    if (!(e instanceof UserFacingError) && !(e instanceof EngineClientError)) deps.log.error(`edit ${entry.id} failed: ${describeForLog(e)}`);
    throw e;
  }
}
