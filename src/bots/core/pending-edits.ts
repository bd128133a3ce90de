/**
 * Edits the engine has accepted whose results the bot has not posted yet, kept in a small JSON file
 * in the data folder. If the bot process dies mid-edit, the engine keeps (and resumes) the job; at the
 * next start the bot finds it here, waits for it and posts the result where it belonged.
 *
 * NOTE: a file rather than a table because storage has no query for "unfinished edits of a platform"
 * (history only lists by account); one bot process owns one data folder.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JobKind } from '../../engine/client/api-types.js';
import type { Platform } from '../../storage/index.js';

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

  remove(editId: number): void {
    const all = this.list();
    if (all.some((p) => p.editId === editId)) this.write(all.filter((p) => p.editId !== editId));
  }

  private write(all: PendingEdit[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all));
    renameSync(tmp, this.file); // atomic: a crash leaves the old list or the new one
  }
}
