/** The records repositories return, and who is asking. Plain data: no methods, no driver types. */

export type Platform = 'discord' | 'slack';
export const PLATFORMS: readonly Platform[] = ['discord', 'slack'];

export type PresetScope = 'private' | 'server' | 'public';
export const PRESET_SCOPES: readonly PresetScope[] = ['private', 'server', 'public'];

/**
 * The person a repository call is made for, as the bot adapter resolved them. `isServerAdmin` is the
 * platform's word (Discord "Manage Server", Slack workspace admin): storage trusts it and applies the
 * rules; it does not talk to the platforms.
 */
export interface Actor {
  readonly accountId: number;
  readonly platform: Platform;
  /** Discord guild id or Slack workspace (team) id the request came from. */
  readonly serverId: string;
  readonly isServerAdmin: boolean;
}

export interface Identity {
  readonly id: number;
  readonly accountId: number;
  readonly platform: Platform;
  readonly serverId: string;
  readonly userId: string;
  readonly displayName: string;
}

export interface Account {
  readonly id: number;
  /** Unique, used in `@handle/preset` references. */
  readonly handle: string;
  readonly createdAt: number;
  readonly identities: readonly Identity[];
}

export interface Preset {
  readonly id: number;
  readonly ownerId: number;
  readonly ownerHandle: string;
  readonly name: string;
  /** Normalized recipe text (formatRecipe of the #2 grammar). */
  readonly recipe: string;
  readonly modelId: string;
  readonly scope: PresetScope;
  readonly platform: Platform;
  readonly serverId: string;
  readonly description: string;
  readonly beforePath: string | null;
  readonly afterPath: string | null;
  readonly forkedFrom: number | null;
  readonly version: number;
  readonly starCount: number;
  readonly useCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type EditStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type FinalStatus = 'done' | 'failed' | 'cancelled';

export interface HistoryEntry {
  readonly id: number;
  readonly accountId: number;
  readonly platform: Platform;
  readonly serverId: string;
  readonly channelId: string;
  readonly threadId: string | null;
  readonly messageId: string | null;
  readonly inputHash: string;
  readonly inputPath: string;
  readonly recipe: string;
  readonly presetId: number | null;
  readonly modelId: string;
  readonly status: EditStatus;
  readonly queuedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly outputPath: string | null;
  readonly errorCode: string | null;
  readonly parentId: number | null;
}

/** A page request: listings never return more than 100 rows at once. */
export interface Page {
  readonly limit?: number;
  readonly offset?: number;
}
