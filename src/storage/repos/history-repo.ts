/**
 * The edit history. Each request is one row; weaker / stronger / undo create a child row pointing at the
 * edit they start from (parent_id), so the history of one image is a tree. Status moves
 * queued -> running -> done | failed | cancelled and never back.
 */
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import type { Actor, FinalStatus, HistoryEntry, Platform } from '../types.js';
import { checkId, checkModelId, checkPath, checkPlatform, pageOf, STORAGE_LIMITS } from '../validation.js';
import type { Row } from './row-mappers.js';
import { toHistory } from './row-mappers.js';

export interface NewHistoryEntry {
  readonly accountId: number;
  readonly platform: Platform;
  readonly serverId: string;
  readonly channelId: string;
  readonly threadId?: string | null;
  readonly messageId?: string | null;
  readonly inputHash: string;
  readonly inputPath: string;
  /** The recipe as run (preset references already expanded or not: stored as given, bounded). */
  readonly recipe: string;
  readonly presetId?: number | null;
  readonly modelId: string;
  readonly parentId?: number | null;
}

export interface FinishEdit {
  readonly status: FinalStatus;
  readonly outputPath?: string | null;
  readonly errorCode?: string | null;
}

export class HistoryRepo {
  private readonly insertStmt;
  private readonly byId;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    // Prepared once: a history write is on every edit's path.
    this.insertStmt = db.prepare(
      `INSERT INTO history (account_id, platform, server_id, channel_id, thread_id, message_id, input_hash, input_path, recipe,
                            preset_id, model_id, status, queued_at, parent_id)
       VALUES (@accountId, @platform, @serverId, @channelId, @threadId, @messageId, @inputHash, @inputPath, @recipe,
               @presetId, @modelId, 'queued', @now, @parentId)`,
    );
    this.byId = db.prepare('SELECT * FROM history WHERE id = ?');
  }

  record(input: NewHistoryEntry): HistoryEntry {
    checkPlatform(input.platform);
    checkId(input.serverId, 'serverId');
    checkId(input.channelId, 'channelId');
    if (input.threadId != null) checkId(input.threadId, 'threadId');
    if (input.messageId != null) checkId(input.messageId, 'messageId');
    checkId(input.inputHash, 'inputHash');
    checkPath(input.inputPath, 'inputPath');
    checkId(input.recipe, 'recipe', STORAGE_LIMITS.historyRecipeMax);
    checkModelId(input.modelId);
    return write(this.db, 'record edit', () => {
      if (input.parentId != null && !this.byId.get(input.parentId)) {
        throw new StorageError('NOT_FOUND', `No edit ${input.parentId} to start from.`, { id: input.parentId });
      }
      const info = this.insertStmt.run({
        ...input,
        threadId: input.threadId ?? null,
        messageId: input.messageId ?? null,
        presetId: input.presetId ?? null,
        parentId: input.parentId ?? null,
        now: this.clock(),
      });
      return toHistory(this.byId.get(info.lastInsertRowid) as Row);
    });
  }

  markStarted(id: number): HistoryEntry {
    return this.transition(id, ['queued'], 'status = ?, started_at = ?', ['running', this.clock()]);
  }

  finish(id: number, result: FinishEdit): HistoryEntry {
    if (result.outputPath != null) checkPath(result.outputPath, 'outputPath');
    if (result.errorCode != null) checkId(result.errorCode, 'errorCode', 64);
    return this.transition(id, ['queued', 'running'], 'status = ?, finished_at = ?, output_path = ?, error_code = ?', [
      result.status,
      this.clock(),
      result.outputPath ?? null,
      result.errorCode ?? null,
    ]);
  }

  /** The bot learns the result message's id only after posting it; reactions and buttons find the edit by it. */
  setMessage(id: number, messageId: string): void {
    checkId(messageId, 'messageId');
    write(this.db, 'set edit message', () => {
      if (this.db.prepare('UPDATE history SET message_id = ? WHERE id = ?').run(messageId, id).changes === 0) {
        throw new StorageError('NOT_FOUND', `No edit ${id}.`, { id });
      }
    });
  }

  private transition(id: number, from: readonly string[], set: string, values: unknown[]): HistoryEntry {
    return write(this.db, 'update edit status', () => {
      const row = this.byId.get(id) as Row | undefined;
      if (!row) throw new StorageError('NOT_FOUND', `No edit ${id}.`, { id });
      if (!from.includes(row.status as string)) {
        throw new StorageError('INVALID_STATE', `Edit ${id} is ${String(row.status)}; it cannot change that way.`, { id, status: row.status });
      }
      this.db.prepare(`UPDATE history SET ${set} WHERE id = ?`).run(...values, id);
      return toHistory(this.byId.get(id) as Row);
    });
  }

  /** Visible to its owner and to the server it was posted in (everyone there saw the result). */
  get(actor: Actor, id: number): HistoryEntry {
    return read('read edit', () => {
      const row = this.byId.get(id) as Row | undefined;
      const e = row && toHistory(row);
      if (!e || (e.accountId !== actor.accountId && (e.platform !== actor.platform || e.serverId !== actor.serverId))) {
        throw new StorageError('NOT_FOUND', `No edit ${id} that you can see.`, { id });
      }
      return e;
    });
  }

  findByMessage(platform: Platform, messageId: string): HistoryEntry | undefined {
    return read('find edit by message', () => {
      const row = this.db.prepare('SELECT * FROM history WHERE platform = ? AND message_id = ? ORDER BY id DESC LIMIT 1').get(platform, messageId) as
        | Row
        | undefined;
      return row && toHistory(row);
    });
  }

  /** Newest first; `beforeId` pages backwards without OFFSET's cost on a long history. */
  listForAccount(accountId: number, options: { limit?: number; beforeId?: number } = {}): HistoryEntry[] {
    const { limit } = pageOf({ limit: options.limit });
    return read('list edits', () =>
      (
        this.db.prepare('SELECT * FROM history WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?').all(accountId, options.beforeId ?? Number.MAX_SAFE_INTEGER, limit) as Row[]
      ).map(toHistory),
    );
  }

  children(id: number): HistoryEntry[] {
    return read('list edit children', () => (this.db.prepare('SELECT * FROM history WHERE parent_id = ? ORDER BY id').all(id) as Row[]).map(toHistory));
  }

  /** The edit and its ancestors, root first: the path "undo" walks back along. */
  lineage(id: number): HistoryEntry[] {
    return read('read edit lineage', () =>
      (
        this.db
          .prepare(
            `WITH RECURSIVE up (id, depth) AS (SELECT ?, 0 UNION ALL SELECT h.parent_id, up.depth + 1 FROM history h JOIN up ON h.id = up.id
                                               WHERE h.parent_id IS NOT NULL AND up.depth < 1000)
             SELECT h.* FROM up JOIN history h ON h.id = up.id ORDER BY up.depth DESC`,
          )
          .all(id) as Row[]
      ).map(toHistory),
    );
  }
}
