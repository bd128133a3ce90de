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
  readonly after: Uint8Array;
  readonly compare: Uint8Array | null;
  readonly cacheHit: boolean;
}

export async function finishJob(deps: CoreDeps, images: ImageStore, o: { editId: number; jobId: string; kind: JobKind; final: JobStatus }): Promise<FinishedEdit> {
  const { storage, engine } = deps;
  if (o.final.state !== 'done') {
    const code = o.final.error?.code ?? (o.final.state === 'cancelled' ? 'CANCELLED' : 'INTERNAL');
    storage.history.finish(o.editId, { status: o.final.state === 'cancelled' ? 'cancelled' : 'failed', errorCode: code });
    throw new UserFacingError('internal', code.startsWith('RECIPE_') && o.final.error ? o.final.error.message : friendlyMessageForCode(code));
  }
  const sweep = o.kind === 'sweep';
  const after = await engine.result(o.jobId, sweep ? 'grid' : 'after');
  const compare = sweep ? null : await engine.result(o.jobId, 'compare').catch(() => null);
  const outputPath = images.saveResult(o.editId, sweep ? 'grid' : 'after', after);
  if (compare) images.saveResult(o.editId, 'compare', compare);
  const entry = storage.history.finish(o.editId, { status: 'done', outputPath });
  return { entry, after, compare, cacheHit: o.final.cacheHit };
}
