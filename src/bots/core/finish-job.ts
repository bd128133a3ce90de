/**
 * The end of an engine job, on the bot's side: on success fetch the result (and the before/after),
 * store them and close the history row as done; otherwise close it as failed with the engine's code and
 * throw the friendly words. Shared by a live edit and by an edit resumed after a bot restart.
 */
import type { JobKind, JobStatus } from '../../engine/client/api-types.js';
import type { HistoryEntry } from '../../storage/index.js';
import { friendlyMessageForCode } from './friendly-errors.js';
import type { ImageStore } from './image-store.js';
import type { CoreDeps } from './types.js';
import { UserFacingError } from './user-facing-error.js';

export interface FinishedEdit {
  readonly entry: HistoryEntry;
  /** The result as people see it: enlarged for display when the model's is smaller (a grid for sweeps). */
  readonly after: Uint8Array;
  readonly compare: Uint8Array | null;
  /** The model-resolution result, when `after` is an enlargement of it (posted beside it, one click away). */
  readonly original: Uint8Array | null;
  readonly cacheHit: boolean;
  /** The engine found the input clearly outside the model's domain: one line to post with the result. */
  readonly domainNote: string | null;
}

/** The display size when the composition root gives none (config bots.displaySize). */
export const DEFAULT_DISPLAY_SIZE = 512;

export async function finishJob(deps: CoreDeps, images: ImageStore, o: { editId: number; jobId: string; kind: JobKind; final: JobStatus }): Promise<FinishedEdit> {
  const { storage, engine } = deps;
  if (o.final.state !== 'done') {
    const code = o.final.error?.code ?? (o.final.state === 'cancelled' ? 'CANCELLED' : 'INTERNAL');
    storage.history.finish(o.editId, { status: o.final.state === 'cancelled' ? 'cancelled' : 'failed', errorCode: code });
    throw new UserFacingError('internal', code.startsWith('RECIPE_') && o.final.error ? o.final.error.message : friendlyMessageForCode(code));
  }
  const sweep = o.kind === 'sweep';
  const variant = sweep ? 'grid' : 'after';
  const displaySize = deps.displaySize ?? DEFAULT_DISPLAY_SIZE;
  const display = displaySize > 0 ? { display: displaySize } : {};
  const original = await engine.result(o.jobId, variant);
  // The engine enlarges (nearest neighbour for tiny models, smooth otherwise); the same bytes back mean
  // the result was big enough already.
  const shown = displaySize > 0 ? await engine.result(o.jobId, variant, display) : original;
  const enlarged = !Buffer.from(shown).equals(Buffer.from(original));
  const compare = sweep ? null : await engine.result(o.jobId, 'compare', display).catch(() => null);
  const outputPath = images.saveResult(o.editId, variant, original);
  if (enlarged) images.saveResult(o.editId, 'display', shown);
  if (compare) images.saveResult(o.editId, 'compare', compare);
  const entry = storage.history.finish(o.editId, { status: 'done', outputPath });
  return { entry, after: shown, compare, original: enlarged ? original : null, cacheHit: o.final.cacheHit, domainNote: o.final.domainNote ?? null };
}
