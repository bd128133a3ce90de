/**
 * Presets: create, change, delete, fork, find. Every method takes the Actor and applies the rules of
 * ./preset-permissions.ts; a preset the actor may not see is reported as NOT_FOUND (never FORBIDDEN),
 * so private presets cannot be discovered by guessing names.
 */
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import type { Actor, Page, Preset, PresetScope } from '../types.js';
import { checkDescription, checkModelId, checkPath, checkPresetName, checkScope, normalizeRecipe, STORAGE_LIMITS } from '../validation.js';
import { addStar, addUse, removeStar } from './preset-activity.js';
import type { Listing } from './preset-listings.js';
import { listOwnPresets, listPresets, searchPresets } from './preset-listings.js';
import { canDelete, canEdit, canView } from './preset-permissions.js';
import type { Row } from './row-mappers.js';
import { PRESET_COLUMNS, toPreset } from './row-mappers.js';
import type { ReadModelSlot } from '../read-model.js';

export interface NewPreset {
  readonly name: string;
  /** Recipe text in the #2 grammar; stored normalized. */
  readonly recipe: string;
  readonly modelId: string;
  /** Default 'private'. */
  readonly scope?: PresetScope;
  readonly description?: string;
  readonly beforePath?: string | null;
  readonly afterPath?: string | null;
}

export type PresetChanges = Partial<Omit<NewPreset, 'name'>> & { readonly name?: string };

const REF = /^@([^/\s]+)\/(.+)$/;

export class PresetsRepo {
  private readonly byId;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** The bots' in-memory copy (../read-model.ts): told about every preset this repository changes. */
    private readonly model: ReadModelSlot = { current: null },
  ) {
    this.byId = db.prepare(`SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id WHERE p.id = ?`);
  }

  private load(id: number): Preset | undefined {
    const row = this.byId.get(id) as Row | undefined;
    return row && toPreset(row);
  }

  /** The preset if the actor may see it; NOT_FOUND otherwise. Must run inside read() or write(). */
  private visible(actor: Actor, id: number): Preset {
    const p = this.load(id);
    if (!p || !canView(actor, p)) throw new StorageError('NOT_FOUND', `No preset ${id} that you can see.`, { id });
    return p;
  }

  get(actor: Actor, id: number): Preset {
    return read('read preset', () => this.visible(actor, id));
  }

  create(actor: Actor, input: NewPreset): Preset {
    const fields = {
      name: checkPresetName(input.name),
      recipe: normalizeRecipe(input.recipe),
      modelId: checkModelId(input.modelId),
      scope: checkScope(input.scope ?? 'private'),
      description: checkDescription(input.description ?? ''),
      beforePath: input.beforePath == null ? null : checkPath(input.beforePath, 'beforePath'),
      afterPath: input.afterPath == null ? null : checkPath(input.afterPath, 'afterPath'),
    };
    return this.changed(write(this.db, 'create preset', () => this.insert(actor, fields, null)));
  }

  /** After the commit: the read model re-reads the row (or drops it), so it cannot differ from the table. */
  private changed<T extends Preset | number>(done: T): T {
    this.model.current?.presetChanged(typeof done === 'number' ? done : done.id);
    return done;
  }

  private insert(actor: Actor, f: Required<Omit<NewPreset, 'beforePath' | 'afterPath'>> & Pick<NewPreset, 'beforePath' | 'afterPath'>, forkedFrom: number | null): Preset {
    const owned = this.db.prepare('SELECT COUNT(*) FROM presets WHERE owner_id = ?').pluck().get(actor.accountId) as number;
    if (owned >= STORAGE_LIMITS.presetsPerAccount) {
      throw new StorageError('TOO_MANY_PRESETS', `You have ${owned} presets, the most an account may keep; delete one first.`, { count: owned });
    }
    if (this.db.prepare('SELECT 1 FROM presets WHERE owner_id = ? AND name = ?').get(actor.accountId, f.name)) {
      throw new StorageError('NAME_TAKEN', `You already have a preset named "${f.name}".`, { name: f.name });
    }
    const now = this.clock();
    const info = this.db
      .prepare(
        `INSERT INTO presets (owner_id, name, recipe, model_id, scope, platform, server_id, description, before_path, after_path,
                              forked_from, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
      )
      .run(actor.accountId, f.name, f.recipe, f.modelId, f.scope, actor.platform, actor.serverId, f.description, f.beforePath ?? null, f.afterPath ?? null, forkedFrom, now, now);
    const id = Number(info.lastInsertRowid);
    this.db.prepare('INSERT INTO preset_versions (preset_id, version, recipe, model_id, created_at) VALUES (?, 1, ?, ?, ?)').run(id, f.recipe, f.modelId, now);
    return this.load(id)!;
  }

  /** Owner only. A new recipe or model makes a new version; the old one stays in preset_versions. */
  update(actor: Actor, id: number, changes: PresetChanges): Preset {
    const c = {
      name: changes.name === undefined ? undefined : checkPresetName(changes.name),
      recipe: changes.recipe === undefined ? undefined : normalizeRecipe(changes.recipe),
      modelId: changes.modelId === undefined ? undefined : checkModelId(changes.modelId),
      scope: changes.scope === undefined ? undefined : checkScope(changes.scope),
      description: changes.description === undefined ? undefined : checkDescription(changes.description),
      beforePath: changes.beforePath == null ? changes.beforePath : checkPath(changes.beforePath, 'beforePath'),
      afterPath: changes.afterPath == null ? changes.afterPath : checkPath(changes.afterPath, 'afterPath'),
    };
    return this.changed(write(this.db, 'update preset', () => {
      const p = this.visible(actor, id);
      if (!canEdit(actor, p)) throw new StorageError('FORBIDDEN', `Only ${p.ownerHandle} can change "${p.name}".`, { id });
      if (c.name !== undefined && c.name !== p.name && this.db.prepare('SELECT 1 FROM presets WHERE owner_id = ? AND name = ?').get(p.ownerId, c.name)) {
        throw new StorageError('NAME_TAKEN', `You already have a preset named "${c.name}".`, { name: c.name });
      }
      const recipe = c.recipe ?? p.recipe;
      const modelId = c.modelId ?? p.modelId;
      const newVersion = recipe !== p.recipe || modelId !== p.modelId;
      const version = newVersion ? p.version + 1 : p.version;
      const now = this.clock();
      // Setting scope 'server' shares the preset with the server the owner is in now.
      const place = c.scope === 'server' ? { platform: actor.platform, serverId: actor.serverId } : { platform: p.platform, serverId: p.serverId };
      this.db
        .prepare(
          `UPDATE presets SET name = ?, recipe = ?, model_id = ?, scope = ?, platform = ?, server_id = ?, description = ?, before_path = ?,
                              after_path = ?, version = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          c.name ?? p.name,
          recipe,
          modelId,
          c.scope ?? p.scope,
          place.platform,
          place.serverId,
          c.description ?? p.description,
          c.beforePath === undefined ? p.beforePath : c.beforePath,
          c.afterPath === undefined ? p.afterPath : c.afterPath,
          version,
          now,
          id,
        );
      if (newVersion) {
        this.db.prepare('INSERT INTO preset_versions (preset_id, version, recipe, model_id, created_at) VALUES (?, ?, ?, ?, ?)').run(id, version, recipe, modelId, now);
      }
      return this.load(id)!;
    }));
  }

  /** The owner, or an admin of the server a server-scoped preset belongs to. */
  remove(actor: Actor, id: number): void {
    write(this.db, 'delete preset', () => {
      const p = this.visible(actor, id);
      if (!canDelete(actor, p)) throw new StorageError('FORBIDDEN', `Only ${p.ownerHandle} or a server admin can delete "${p.name}".`, { id });
      this.db.prepare('DELETE FROM presets WHERE id = ?').run(id);
    });
    this.changed(id);
  }

  /** Copies a preset the actor can see into their own presets (private unless told otherwise). */
  fork(actor: Actor, id: number, options: { name?: string; scope?: PresetScope } = {}): Preset {
    const name = options.name === undefined ? undefined : checkPresetName(options.name);
    const scope = checkScope(options.scope ?? 'private');
    return this.changed(write(this.db, 'fork preset', () => {
      const src = this.visible(actor, id);
      const fields = { name: name ?? src.name, recipe: src.recipe, modelId: src.modelId, scope, description: src.description, beforePath: src.beforePath, afterPath: src.afterPath };
      return this.insert(actor, fields, src.id);
    }));
  }

  /** The recipes a visible preset has had, oldest first. */
  versions(actor: Actor, id: number): { version: number; recipe: string; modelId: string; createdAt: number }[] {
    return read('read preset versions', () => {
      this.visible(actor, id);
      return (this.db.prepare('SELECT version, recipe, model_id, created_at FROM preset_versions WHERE preset_id = ? ORDER BY version').all(id) as Row[]).map(
        (r) => ({ version: r.version as number, recipe: r.recipe as string, modelId: r.model_id as string, createdAt: r.created_at as number }),
      );
    });
  }

  /**
   * Finds the preset a recipe term names. `@handle/name` is exact. A bare `name` is the actor's own
   * preset, else a server preset of this server, else a public one; when several people shared the same
   * name, the most starred (then the oldest) wins, so the answer does not change from one call to the next.
   */
  resolve(actor: Actor, ref: string): Preset {
    return read('find preset', () => {
      const m = REF.exec(ref);
      let id: number | undefined;
      if (m) {
        id = this.db.prepare('SELECT p.id FROM presets p JOIN accounts a ON a.id = p.owner_id WHERE a.handle = ? AND p.name = ?').pluck().get(m[1], m[2]) as
          | number
          | undefined;
        if (id !== undefined && !canView(actor, this.load(id)!)) id = undefined;
      } else {
        id = this.db
          .prepare(
            `SELECT id FROM presets WHERE name = @name AND (owner_id = @accountId
                OR (scope = 'server' AND platform = @platform AND server_id = @serverId) OR scope = 'public')
             ORDER BY (owner_id = @accountId) DESC, (scope = 'server') DESC, star_count DESC, id LIMIT 1`,
          )
          .pluck()
          .get({ name: ref, accountId: actor.accountId, platform: actor.platform, serverId: actor.serverId }) as number | undefined;
      }
      if (id === undefined) throw new StorageError('NOT_FOUND', `No preset "${ref}" that you can use.`, { ref });
      return this.load(id)!;
    });
  }

  search(actor: Actor, query: string, page?: Page): Preset[] {
    return searchPresets(this.db, actor, query, page);
  }

  list(actor: Actor, listing: Listing, page?: Page): Preset[] {
    return listPresets(this.db, actor, listing, { ...page, now: this.clock() });
  }

  listOwn(actor: Actor, page?: Page): Preset[] {
    return listOwnPresets(this.db, actor, page);
  }

  /** Stars a visible preset; false when the actor had already starred it. */
  star(actor: Actor, id: number): boolean {
    const added = write(this.db, 'star preset', () => addStar(this.db, this.visible(actor, id).id, actor.accountId, this.clock()));
    this.changed(id);
    return added;
  }

  unstar(actor: Actor, id: number): boolean {
    const removed = write(this.db, 'unstar preset', () => removeStar(this.db, this.visible(actor, id).id, actor.accountId));
    this.changed(id);
    return removed;
  }

  /** Counts one use (an edit ran with it); feeds use_count and the trending listing. */
  recordUse(actor: Actor, id: number): void {
    write(this.db, 'record preset use', () => addUse(this.db, this.visible(actor, id).id, this.clock()));
    this.changed(id);
  }
}
