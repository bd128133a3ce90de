/**
 * Edits the engine has accepted whose results the bot has not posted yet, kept in a small JSON file
 * in the data folder. If the bot process dies mid-edit, or shuts down (SIGTERM hands every running edit
 * over to this list), the engine keeps (and resumes) the job; at the next start the bot finds it here,
 * waits for it, posts the result where it belonged and updates the person's status message to it.
 *
 * NOTE: a file rather than a table because storage has no query for "unfinished edits of a platform"
 * (history only lists by account); one bot process owns one data folder.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JobKind } from '../../engine/client/api-types.js';
import type { Platform } from '../../storage/index.js';

/** Where the person's status line for an edit is, so the next start can turn it into the result. */
export type PendingStatus =
  /** The deferred reply of a Discord interaction (editable through its token for 15 minutes). */
  | { readonly kind: 'discord-interaction'; readonly applicationId: string; readonly token: string }
  /** A bot message in a Discord channel or thread (reactions). */
  | { readonly kind: 'discord-message'; readonly channelId: string; readonly messageId: string }
  /** Slack: the status message in the thread and the reaction on the source message. */
  | { readonly kind: 'slack'; readonly statusTs: string | null; readonly sourceTs: string | null; readonly lead: string };

export interface PendingEdit {
  readonly editId: number;
  readonly jobId: string;
  readonly kind: JobKind;
  readonly platform: Platform;
  readonly userId: string;
  /** Where the result goes (a thread or channel id). */
  readonly channelId: string;
  readonly caption: string;
  readonly createdAt: number;
  /** Slack: the thread the result goes in. */
  readonly threadTs?: string;
  readonly status?: PendingStatus;
}

export class PendingEdits {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'pending-edits.json');
  }

  list(platform?: Platform): PendingEdit[] {
    if (!existsSync(this.file)) return [];
    try {
      const all = JSON.parse(readFileSync(this.file, 'utf8')) as PendingEdit[];
      return Array.isArray(all) ? all.filter((p) => !platform || p.platform === platform) : [];
    } catch {
      return []; // a torn file loses the list, never the bot
    }
  }

  add(p: PendingEdit): void {
    this.write([...this.list().filter((x) => x.editId !== p.editId), p]);
  }

  /** Adds what became known later (the status message) to an edit on the list; no-op when it is gone. */
  update(editId: number, changes: Partial<Pick<PendingEdit, 'status'>>): void {
    const all = this.list();
    const i = all.findIndex((p) => p.editId === editId);
    if (i < 0) return;
    all[i] = { ...all[i]!, ...changes };
    this.write(all);
  }

  remove(editId: number): void {
    const all = this.list();
    if (all.some((p) => p.editId === editId)) this.write(all.filter((p) => p.editId !== editId));
  }

  private write(all: PendingEdit[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    // The file can hold interaction tokens (15-minute webhook rights): readable by the bot's user only.
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, this.file); // atomic: a crash leaves the old list or the new one
  }
}
