/**
 * An in-memory copy of what the bots decide before they acknowledge a platform request (issue #31, "ack
 * first": nothing touches the disk before the ack): who a platform user's account is, every preset (for
 * resolving the names a recipe uses and the picker's list), and each server's settings and channel
 * allow-list. Loaded once (Storage.readModel(), called at bot start) and then kept write-through: the
 * repositories of this module tell it about every row they changed, right after their transaction
 * committed, so it holds what the database holds. Writes made by another process on the same file (a
 * second bot, the CLI) are not seen until the next start; docs/bots.md says so.
 */
import type { Db } from './open-database.js';
import { StorageError } from './storage-error.js';
import { read } from './transactions.js';
import type { Actor, Identity, Platform, Preset } from './types.js';
import { canView } from './repos/preset-permissions.js';
import type { Row } from './repos/row-mappers.js';
import { PRESET_COLUMNS, toPreset } from './repos/row-mappers.js';
import type { ServerSettings, ServerSettingsRepo } from './repos/server-settings-repo.js';

const REF = /^@([^/\s]+)\/(.+)$/;
const who = (platform: Platform, serverId: string, userId: string) => `${platform}\u0000${serverId}\u0000${userId}`;
const where = (platform: Platform, serverId: string) => `${platform}\u0000${serverId}`;

export class ReadModel {
  private readonly accountOf = new Map<string, number>();
  private readonly presets = new Map<number, Preset>();
  /** Preset ids by name: a recipe names presets, and resolving one looks only at those of that name. */
  private readonly named = new Map<string, Set<number>>();
  private readonly servers = new Map<string, ServerSettings>();

  constructor(
    private readonly db: Db,
    private readonly settings: ServerSettingsRepo,
  ) {
    this.reload();
  }

  /** Reads everything again (at load, and after an account merge, which moves identities, presets and stars). */
  reload(): void {
    read('load the read model', () => {
      this.accountOf.clear();
      for (const r of this.db.prepare('SELECT account_id, platform, server_id, user_id FROM identities').all() as Row[]) {
        this.accountOf.set(who(r.platform as Platform, r.server_id as string, r.user_id as string), r.account_id as number);
      }
      this.presets.clear();
      this.named.clear();
      for (const r of this.db.prepare(`SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id`).all() as Row[]) this.keep(toPreset(r));
      this.servers.clear();
      const places = this.db
        .prepare('SELECT platform, server_id FROM server_settings UNION SELECT platform, server_id FROM server_channels UNION SELECT platform, server_id FROM server_emoji')
        .all() as Row[];
      for (const r of places) this.serverChanged(r.platform as Platform, r.server_id as string);
    });
  }

  /** The account of a platform user seen before, else undefined (the account is made after the ack). */
  accountIdOf(platform: Platform, serverId: string, userId: string): number | undefined {
    return this.accountOf.get(who(platform, serverId, userId));
  }

  /** The server's settings, as ServerSettingsRepo.get returns them. */
  serverSettings(platform: Platform, serverId: string): ServerSettings {
    return (
      this.servers.get(where(platform, serverId)) ?? {
        platform,
        serverId,
        defaultModel: null,
        reactionsEnabled: true,
        userEditsPerHour: null,
        serverEditsPerHour: null,
        emoji: [],
        allowedChannels: [],
      }
    );
  }

  isChannelAllowed(platform: Platform, serverId: string, channelId: string): boolean {
    const allowed = this.serverSettings(platform, serverId).allowedChannels;
    return allowed.length === 0 || allowed.includes(channelId);
  }

  /** PresetsRepo.resolve in memory: the same rules, the same order, the same NOT_FOUND. */
  resolve(actor: Actor, ref: string): Preset {
    const m = REF.exec(ref);
    let found: Preset | undefined;
    if (m) {
      for (const p of this.withName(m[2]!)) if (p.ownerHandle === m[1]) found = p;
      if (found && !canView(actor, found)) found = undefined;
    } else {
      // Own first, then a server preset (visible ones are this server's), then the most starred, then the oldest.
      const rank = (p: Preset) => [p.ownerId === actor.accountId ? 0 : 1, p.scope === 'server' ? 0 : 1, -p.starCount, p.id];
      for (const p of this.withName(ref)) {
        if (!canView(actor, p)) continue;
        if (!found || before(rank(p), rank(found))) found = p;
      }
    }
    if (!found) throw new StorageError('NOT_FOUND', `No preset "${ref}" that you can use.`, { ref });
    return found;
  }

  /**
   * Autocomplete's search in memory: visible presets whose name or description contains the text (any
   * case), the exact name first, then the most starred, then the oldest, as PresetsRepo.search orders
   * them. A scan of every preset (about 1 ms per 20,000): suggestions for the word being typed, not a listing.
   */
  search(actor: Actor, query: string, limit: number): Preset[] {
    const q = query.toLowerCase();
    const found = [...this.presets.values()].filter((p) => canView(actor, p) && (p.name.toLowerCase().includes(q) || p.description.toLowerCase().includes(q)));
    const rank = (p: Preset) => [p.name === query ? 0 : 1, -p.starCount, p.id];
    return found.sort((a, b) => (before(rank(a), rank(b)) ? -1 : before(rank(b), rank(a)) ? 1 : 0)).slice(0, limit);
  }

  /** PresetsRepo.listOwn in memory (by name), for the context menu's picker. */
  listOwn(actor: Actor, limit: number): Preset[] {
    return [...this.presets.values()]
      .filter((p) => p.ownerId === actor.accountId)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, limit);
  }

  // Write-through: called by the repositories after their transaction committed.

  identityChanged(identity: Pick<Identity, 'accountId' | 'platform' | 'serverId' | 'userId'>): void {
    this.accountOf.set(who(identity.platform, identity.serverId, identity.userId), identity.accountId);
  }

  presetChanged(id: number): void {
    const row = read('refresh a preset', () => this.db.prepare(`SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id WHERE p.id = ?`).get(id) as Row | undefined);
    this.drop(id);
    if (row) {
      this.keep(toPreset(row));
      return;
    }
    // A deleted preset takes its emoji mappings with it (ON DELETE CASCADE).
    for (const s of [...this.servers.values()]) if (s.emoji.some((e) => e.presetId === id)) this.serverChanged(s.platform, s.serverId);
  }

  private keep(p: Preset): void {
    this.presets.set(p.id, p);
    let ids = this.named.get(p.name);
    if (!ids) this.named.set(p.name, (ids = new Set()));
    ids.add(p.id);
  }

  private drop(id: number): void {
    const old = this.presets.get(id);
    if (!old) return;
    this.presets.delete(id);
    const ids = this.named.get(old.name);
    ids?.delete(id);
    if (ids?.size === 0) this.named.delete(old.name);
  }

  private *withName(name: string): Generator<Preset> {
    for (const id of this.named.get(name) ?? []) yield this.presets.get(id)!;
  }

  serverChanged(platform: Platform, serverId: string): void {
    this.servers.set(where(platform, serverId), this.settings.get(platform, serverId));
  }
}

function before(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** Where the repositories find the read model once it is loaded (null before: nothing to keep current). */
export interface ReadModelSlot {
  current: ReadModel | null;
}
