/** Converts snake_case rows into the camelCase records of ./types.ts. One place, so columns and fields cannot drift apart. */
import type { HistoryEntry, Identity, Preset } from '../types.js';

export type Row = Record<string, unknown>;

export const PRESET_COLUMNS = `p.id, p.owner_id, a.handle AS owner_handle, p.name, p.recipe, p.model_id, p.scope, p.platform,
  p.server_id, p.description, p.before_path, p.after_path, p.forked_from, p.version, p.star_count, p.use_count,
  p.created_at, p.updated_at`;

export function toPreset(r: Row): Preset {
  return {
    id: r.id as number,
    ownerId: r.owner_id as number,
    ownerHandle: r.owner_handle as string,
    name: r.name as string,
    recipe: r.recipe as string,
    modelId: r.model_id as string,
    scope: r.scope as Preset['scope'],
    platform: r.platform as Preset['platform'],
    serverId: r.server_id as string,
    description: r.description as string,
    beforePath: (r.before_path as string | null) ?? null,
    afterPath: (r.after_path as string | null) ?? null,
    forkedFrom: (r.forked_from as number | null) ?? null,
    version: r.version as number,
    starCount: r.star_count as number,
    useCount: r.use_count as number,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

export function toIdentity(r: Row): Identity {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    platform: r.platform as Identity['platform'],
    serverId: r.server_id as string,
    userId: r.user_id as string,
    displayName: r.display_name as string,
  };
}

export function toHistory(r: Row): HistoryEntry {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    platform: r.platform as HistoryEntry['platform'],
    serverId: r.server_id as string,
    channelId: r.channel_id as string,
    threadId: (r.thread_id as string | null) ?? null,
    messageId: (r.message_id as string | null) ?? null,
    inputHash: r.input_hash as string,
    inputPath: r.input_path as string,
    recipe: r.recipe as string,
    presetId: (r.preset_id as number | null) ?? null,
    modelId: r.model_id as string,
    status: r.status as HistoryEntry['status'],
    queuedAt: r.queued_at as number,
    startedAt: (r.started_at as number | null) ?? null,
    finishedAt: (r.finished_at as number | null) ?? null,
    outputPath: (r.output_path as string | null) ?? null,
    errorCode: (r.error_code as string | null) ?? null,
    parentId: (r.parent_id as number | null) ?? null,
  };
}
