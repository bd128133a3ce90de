/**
 * Per-server settings. Anyone may read them (the bots check them on every message); only an admin of
 * that very server, on that platform, may change them.
 */
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import type { Actor, Platform } from '../types.js';
import { checkCount, checkId, checkModelId, normalizeRecipe } from '../validation.js';
import type { Row } from './row-mappers.js';
import type { ReadModelSlot } from '../read-model.js';

export interface EmojiAction {
  readonly emoji: string;
  /** Exactly one of recipe and presetId is set. */
  readonly recipe: string | null;
  readonly presetId: number | null;
}

export interface ServerSettings {
  readonly platform: Platform;
  readonly serverId: string;
  readonly defaultModel: string | null;
  readonly reactionsEnabled: boolean;
  /** null: no limit of that kind. */
  readonly userEditsPerHour: number | null;
  readonly serverEditsPerHour: number | null;
  readonly emoji: readonly EmojiAction[];
  /** Empty: every channel is allowed. */
  readonly allowedChannels: readonly string[];
}

export interface SettingsChanges {
  readonly defaultModel?: string | null;
  readonly reactionsEnabled?: boolean;
  readonly userEditsPerHour?: number | null;
  readonly serverEditsPerHour?: number | null;
}

const RATE_MAX = 100_000;
const MAX_CHANNELS = 500;

export class ServerSettingsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** The bots' in-memory copy (../read-model.ts): told about every server whose settings change here. */
    private readonly model: ReadModelSlot = { current: null },
  ) {}

  /** After the commit: the read model re-reads this server's settings. */
  private changed(actor: Actor): void {
    this.model.current?.serverChanged(actor.platform, actor.serverId);
  }

  get(platform: Platform, serverId: string): ServerSettings {
    return read('read server settings', () => {
      const s = this.db.prepare('SELECT * FROM server_settings WHERE platform = ? AND server_id = ?').get(platform, serverId) as Row | undefined;
      const emoji = (this.db.prepare('SELECT emoji, recipe, preset_id FROM server_emoji WHERE platform = ? AND server_id = ? ORDER BY emoji').all(platform, serverId) as Row[]).map(
        (r) => ({ emoji: r.emoji as string, recipe: (r.recipe as string | null) ?? null, presetId: (r.preset_id as number | null) ?? null }),
      );
      const channels = this.db.prepare('SELECT channel_id FROM server_channels WHERE platform = ? AND server_id = ? ORDER BY channel_id').pluck().all(platform, serverId) as string[];
      return {
        platform,
        serverId,
        defaultModel: (s?.default_model as string | null | undefined) ?? null,
        reactionsEnabled: s ? s.reactions_enabled === 1 : true,
        userEditsPerHour: (s?.user_edits_per_hour as number | null | undefined) ?? null,
        serverEditsPerHour: (s?.server_edits_per_hour as number | null | undefined) ?? null,
        emoji,
        allowedChannels: channels,
      };
    });
  }

  private requireAdmin(actor: Actor): void {
    if (!actor.isServerAdmin) throw new StorageError('FORBIDDEN', 'Only a server admin can change the bot settings of this server.');
  }

  /** Changes the settings of the actor's own server (there is no way to name another one). */
  update(actor: Actor, changes: SettingsChanges): ServerSettings {
    this.requireAdmin(actor);
    if (changes.defaultModel != null) checkModelId(changes.defaultModel);
    if (changes.userEditsPerHour != null) checkCount(changes.userEditsPerHour, 'userEditsPerHour', RATE_MAX);
    if (changes.serverEditsPerHour != null) checkCount(changes.serverEditsPerHour, 'serverEditsPerHour', RATE_MAX);
    write(this.db, 'update server settings', () => {
      const cur = this.get(actor.platform, actor.serverId);
      const pick = <K extends keyof SettingsChanges>(k: K) => (changes[k] === undefined ? cur[k] : changes[k]);
      this.db
        .prepare(
          `INSERT INTO server_settings (platform, server_id, default_model, reactions_enabled, user_edits_per_hour, server_edits_per_hour, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (platform, server_id) DO UPDATE SET default_model = excluded.default_model, reactions_enabled = excluded.reactions_enabled,
             user_edits_per_hour = excluded.user_edits_per_hour, server_edits_per_hour = excluded.server_edits_per_hour, updated_at = excluded.updated_at`,
        )
        .run(actor.platform, actor.serverId, pick('defaultModel'), pick('reactionsEnabled') ? 1 : 0, pick('userEditsPerHour'), pick('serverEditsPerHour'), this.clock());
    });
    this.changed(actor);
    return this.get(actor.platform, actor.serverId);
  }

  /**
   * Maps an emoji to a recipe (may name presets) or to a preset the admin can see here. A preset that is
   * later deleted takes its emoji mapping with it (ON DELETE CASCADE).
   */
  setEmoji(actor: Actor, emoji: string, target: { recipe: string } | { presetId: number }): EmojiAction {
    this.requireAdmin(actor);
    checkId(emoji, 'emoji', 64);
    const recipe = 'recipe' in target ? normalizeRecipe(target.recipe, { allowPresets: true }) : null;
    const presetId = 'presetId' in target ? target.presetId : null;
    write(this.db, 'map emoji', () => {
      if (presetId !== null) {
        const p = this.db.prepare('SELECT owner_id AS ownerId, scope, platform, server_id AS serverId FROM presets WHERE id = ?').get(presetId) as
          | { ownerId: number; scope: 'private' | 'server' | 'public'; platform: Platform; serverId: string }
          | undefined;
        // Everyone here can react with the emoji, so the preset must be one everyone here can see:
        // public, or a server preset of this server (not a private one, not another server's).
        const here = p && (p.scope === 'public' || (p.scope === 'server' && p.platform === actor.platform && p.serverId === actor.serverId));
        if (!p || !here) {
          throw new StorageError('NOT_FOUND', `No server or public preset ${presetId} that you can see.`, { id: presetId });
        }
      }
      this.db
        .prepare(
          `INSERT INTO server_emoji (platform, server_id, emoji, recipe, preset_id) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (platform, server_id, emoji) DO UPDATE SET recipe = excluded.recipe, preset_id = excluded.preset_id`,
        )
        .run(actor.platform, actor.serverId, emoji, recipe, presetId);
    });
    this.changed(actor);
    return { emoji, recipe, presetId };
  }

  removeEmoji(actor: Actor, emoji: string): boolean {
    this.requireAdmin(actor);
    const removed = write(this.db, 'unmap emoji', () => this.db.prepare('DELETE FROM server_emoji WHERE platform = ? AND server_id = ? AND emoji = ?').run(actor.platform, actor.serverId, emoji).changes > 0);
    this.changed(actor);
    return removed;
  }

  emojiAction(platform: Platform, serverId: string, emoji: string): EmojiAction | undefined {
    return this.get(platform, serverId).emoji.find((e) => e.emoji === emoji);
  }

  /** Replaces the allowed channel list; an empty list allows every channel again. */
  setAllowedChannels(actor: Actor, channelIds: readonly string[]): void {
    this.requireAdmin(actor);
    if (channelIds.length > MAX_CHANNELS) throw new StorageError('INVALID_INPUT', `At most ${MAX_CHANNELS} channels can be listed.`, { field: 'channels' });
    for (const c of channelIds) checkId(c, 'channelId');
    write(this.db, 'set allowed channels', () => {
      this.db.prepare('DELETE FROM server_channels WHERE platform = ? AND server_id = ?').run(actor.platform, actor.serverId);
      const add = this.db.prepare('INSERT OR IGNORE INTO server_channels (platform, server_id, channel_id) VALUES (?, ?, ?)');
      for (const c of channelIds) add.run(actor.platform, actor.serverId, c);
    });
    this.changed(actor);
  }

  isChannelAllowed(platform: Platform, serverId: string, channelId: string): boolean {
    return read('check channel', () => {
      const any = this.db.prepare('SELECT 1 FROM server_channels WHERE platform = ? AND server_id = ? LIMIT 1').get(platform, serverId);
      return !any || !!this.db.prepare('SELECT 1 FROM server_channels WHERE platform = ? AND server_id = ? AND channel_id = ?').get(platform, serverId, channelId);
    });
  }
}
