/**
 * The core's front door for edits, used the same way by every platform adapter:
 *   admit()   - fast synchronous checks (channel allowed, rate limits) the adapter runs before it
 *               acknowledges, so a refusal can still be private;
 *   prepare() - the recipe resolved against the model and the person's presets;
 *   fetchInput() / run() - download the image, run the job, store the result;
 *   follow-ups (stronger / weaker / sweep) start from a stored edit, so they work after a restart.
 */
import type { Actor, HistoryEntry, ReadModel } from '../../storage/index.js';
import type { AttachmentMeta } from './image-fetch.js';
import { fetchImage } from './image-fetch.js';
import { ImageStore } from './image-store.js';
import type { ModelCatalog } from './model-catalog.js';
import { RateLimiter } from './rate-limiter.js';
import { PendingEdits } from './pending-edits.js';
import { SetupSlots } from './setup-slots.js';
import type { ResolvedRecipe } from './resolve-recipe.js';
import { resolveRecipe, scaleRecipe } from './resolve-recipe.js';
import type { EditJob, EditOutcome } from './run-bot-edit.js';
import { runBotEdit } from './run-bot-edit.js';
import type { CoreDeps, Requester } from './types.js';
import { UserFacingError } from './user-facing-error.js';
import { join } from 'node:path';

export type FollowUp = 'stronger' | 'weaker' | 'sweep';
export const FOLLOW_UP_FACTOR: Record<Exclude<FollowUp, 'sweep'>, number> = { stronger: 1.5, weaker: 2 / 3 };

export interface EditServiceOptions {
  readonly allowedHosts: readonly string[];
  readonly limiter?: RateLimiter;
}

export class EditService {
  readonly images: ImageStore;
  readonly limiter: RateLimiter;
  /** Accepted edits not yet posted, to finish after a restart. */
  readonly pending: PendingEdits;
  /** Edits setting up at once (see setup-slots.ts); the rest wait their turn after their ack. */
  readonly setupSlots = new SetupSlots(4);
  /**
   * Accounts, presets and server settings in memory (storage's read model, loaded here at bot start and
   * kept current by storage's writes): what admit() and prepare() decide from, so they read no disk.
   */
  readonly model: ReadModel;

  constructor(
    readonly deps: CoreDeps,
    readonly catalog: ModelCatalog,
    private readonly options: EditServiceOptions,
  ) {
    this.images = new ImageStore(join(deps.dataDir, 'images'));
    this.model = deps.storage.readModel();
    this.pending = new PendingEdits(deps.dataDir);
    this.limiter = options.limiter ?? new RateLimiter(deps.now ? { now: deps.now } : {});
  }

  /**
   * Channel allow-list and rate limits; counts the edit. Throws UserFacingError('limit' | 'forbidden').
   * The server's settings come from the read model and the counts are in memory: it touches no disk, so
   * adapters run it before the ack.
   */
  admit(who: Requester): void {
    if (!this.model.isChannelAllowed(who.platform, who.serverId, who.channelId)) {
      throw new UserFacingError('forbidden', 'Edits are not enabled in this channel; ask an admin which channels allow them.');
    }
    this.limiter.take(who, this.model.serverSettings(who.platform, who.serverId));
  }

  /** Presets are looked up in the read model: in memory, so adapters run it before the ack. */
  prepare(actor: Actor, recipeText: string): ResolvedRecipe {
    return resolveRecipe(recipeText, { directions: this.catalog.directionNames, actor, presets: this.model });
  }

  get allowedHosts(): readonly string[] {
    return this.options.allowedHosts;
  }

  async fetchInput(meta: AttachmentMeta): Promise<{ path: string; hash: string }> {
    const bytes = await fetchImage(meta, { limits: this.deps.limits, allowedHosts: this.options.allowedHosts });
    return this.images.saveInput(bytes);
  }

  async run(job: Omit<EditJob, 'modelId'> & { modelId?: string }, preset?: ResolvedRecipe['preset']): Promise<EditOutcome> {
    const outcome = await runBotEdit(this.deps, this.images, { ...job, modelId: job.modelId ?? this.catalog.current.id });
    if (preset) {
      try {
        this.deps.storage.presets.recordUse(job.actor, preset.id);
      } catch {
        // A preset deleted while the edit ran: the edit itself still succeeded.
      }
    }
    return outcome;
  }

  /** The stored edit a button points at, checked to be visible to the person pressing it. */
  edit(actor: Actor, editId: number): HistoryEntry {
    return this.deps.storage.history.get(actor, editId);
  }

  /** The child job of a follow-up button: same input, scaled recipe (or a sweep), parent = the edit. */
  followUpJob(actor: Actor, editId: number, action: FollowUp): Pick<EditJob, 'input' | 'recipe' | 'modelId' | 'parentId' | 'kind'> {
    const e = this.edit(actor, editId);
    if (e.status !== 'done') throw new UserFacingError('input', 'That edit did not finish, so there is nothing to build on.');
    const recipe = action === 'sweep' ? e.recipe : scaleRecipe(e.recipe, FOLLOW_UP_FACTOR[action]);
    return { input: { path: e.inputPath, hash: e.inputHash }, recipe, modelId: e.modelId, parentId: e.id, kind: action === 'sweep' ? 'sweep' : 'edit' };
  }

  /** Undo: the parent edit's stored result, or null when the edit was the first one (the original stands). */
  /** The edit before this one, as it was posted: `image` enlarged for display and `original` beside it when it was. */
  undoTarget(actor: Actor, editId: number): { entry: HistoryEntry; image: Uint8Array; original: Uint8Array | null } | null {
    const e = this.edit(actor, editId);
    if (e.parentId === null) return null;
    const parent = this.deps.storage.history.get(actor, e.parentId);
    if (!parent.outputPath) return null;
    const stored = this.images.read(parent.outputPath);
    const display = this.images.readDisplay(parent.id);
    return { entry: parent, image: display ?? stored, original: display ? stored : null };
  }
}
