/**
 * One edit from start to result: record it in history, submit it to the engine (with an idempotency
 * key, so a redelivered event never runs twice), follow its progress into throttled status text, fetch
 * the results, store them, and close the history row. Errors come out as UserFacingError.
 */
import type { JobKind } from '../../engine/client/api-types.js';
import { EngineClientError } from '../../engine/client/engine-client.js';
import type { Actor, HistoryEntry } from '../../storage/index.js';
import { engineOwner } from './actors.js';
import { describeForLog, friendlyMessageForCode } from './friendly-errors.js';
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
}

export interface EditOutcome {
  readonly entry: HistoryEntry;
  /** The edited image (a grid for sweeps). */
  readonly after: Uint8Array;
  /** Before | after side by side (absent for sweeps). */
  readonly compare: Uint8Array | null;
  readonly cacheHit: boolean;
}

export async function runEdit(deps: CoreDeps, images: ImageStore, job: EditJob): Promise<EditOutcome> {
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
      imageBase64: Buffer.from(images.read(job.input.path)).toString('base64'),
      recipe: job.recipe,
      model: job.modelId,
      owner: engineOwner(job.requester),
      idempotencyKey: job.idempotencyKey,
      kind,
      labels: { edit: String(entry.id), platform: job.requester.platform },
    });
    throttle.update(statusText({ state: submitted.state, phase: 'queued', position: submitted.position, step: 0, total: 0, cacheHit: false }));
    storage.history.markStarted(entry.id);
    const final = await followJob(engine, submitted.id, (e) => throttle.update(statusText(e.status)));
    await throttle.settle();
    if (final.state !== 'done') {
      const code = final.error?.code ?? (final.state === 'cancelled' ? 'CANCELLED' : 'INTERNAL');
      storage.history.finish(entry.id, { status: final.state === 'cancelled' ? 'cancelled' : 'failed', errorCode: code });
      throw new UserFacingError('internal', code.startsWith('RECIPE_') && final.error ? final.error.message : friendlyMessageForCode(code));
    }
    const after = await engine.result(submitted.id, kind === 'sweep' ? 'grid' : 'after');
    const compare = kind === 'sweep' ? null : await engine.result(submitted.id, 'compare').catch(() => null);
    const outputPath = images.saveResult(entry.id, kind === 'sweep' ? 'grid' : 'after', after);
    if (compare) images.saveResult(entry.id, 'compare', compare);
    const done = storage.history.finish(entry.id, { status: 'done', outputPath });
    return { entry: done, after, compare, cacheHit: final.cacheHit };
  } catch (e) {
    await throttle.settle();
    const current = storage.history.get(job.actor, entry.id);
    if (current.status === 'queued' || current.status === 'running') {
      storage.history.finish(entry.id, { status: 'failed', errorCode: e instanceof EngineClientError ? e.code : 'BOT_ERROR' });
    }
    if (!(e instanceof UserFacingError) && !(e instanceof EngineClientError)) deps.log.error(`edit ${entry.id} failed: ${describeForLog(e)}`);
    throw e;
  }
}
