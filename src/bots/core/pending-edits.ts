/**
 * Edits the engine has accepted whose results the bot has not posted yet, kept in a small JSON file
 * in the data folder. If the bot process dies mid-edit, or shuts down (SIGTERM hands every running edit
 * over to this list), the engine keeps (and resumes) the job; at the next start the bot finds it here,
 * waits for it, posts the result where it belonged and updates the person's status message to it.
 *
 * The list is read once and kept in memory; every change is written at once (temp file + rename).
 *
 * NOTE: a file rather than a table because storage has no query for "unfinished edits of a platform"
 * (history only lists by account); one bot process owns one data folder.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Per platform, the list as last written: read once, then kept here (one process per platform). */
  private readonly cache = new Map<Platform, PendingEdit[]>();

  constructor(private readonly dataDir: string) {}

  /**
   * One file per platform: `asyrp start` runs the Discord and the Slack bot as two processes on one
   * data folder, and each rewrites only its own list.
   */
  private fileOf(platform: Platform): string {
    return join(this.dataDir, `pending-edits-${platform}.json`);
  }

  list(platform?: Platform): PendingEdit[] {
    return (platform ? [platform] : PLATFORMS).flatMap((p) => [...this.load(p)]);
  }

  add(p: PendingEdit): void {
    this.write(p.platform, [...this.load(p.platform).filter((x) => x.editId !== p.editId), p]);
  }

  /** Adds what became known later (the status message) to an edit on the list; no-op when it is gone. */
  update(editId: number, changes: Partial<Pick<PendingEdit, 'status'>>): void {
    for (const platform of PLATFORMS) {
      const all = [...this.load(platform)];
      const i = all.findIndex((p) => p.editId === editId);
      if (i < 0) continue;
      all[i] = { ...all[i]!, ...changes };
      this.write(platform, all);
    }
  }

  remove(editId: number): void {
    for (const platform of PLATFORMS) {
      const all = this.load(platform);
      if (all.some((p) => p.editId === editId)) this.write(platform, all.filter((p) => p.editId !== editId));
    }
  }

  private load(platform: Platform): readonly PendingEdit[] {
    let all = this.cache.get(platform);
    if (!all) {
      all = readList(this.fileOf(platform));
      this.cache.set(platform, all);
      this.adoptLegacy(platform);
      all = this.cache.get(platform)!;
    }
    return all;
  }

  /** Entries of this platform in the single file of earlier versions move into the platform's file. */
  private adoptLegacy(platform: Platform): void {
    const legacy = join(this.dataDir, 'pending-edits.json');
    if (!existsSync(legacy)) return;
    const old = readList(legacy);
    const mine = old.filter((p) => p.platform === platform);
    if (mine.length === 0) return;
    const current = this.cache.get(platform) ?? [];
    this.write(platform, [...current, ...mine.filter((p) => !current.some((c) => c.editId === p.editId))]);
    const rest = old.filter((p) => p.platform !== platform);
    if (rest.length) writeList(legacy, rest);
    else rmSync(legacy, { force: true });
  }

  private write(platform: Platform, all: PendingEdit[]): void {
    writeList(this.fileOf(platform), all);
    this.cache.set(platform, all);
  }
}

const PLATFORMS: readonly Platform[] = ['discord', 'slack'];

function readList(file: string): PendingEdit[] {
  if (!existsSync(file)) return [];
  try {
    const all = JSON.parse(readFileSync(file, 'utf8')) as PendingEdit[];
    return Array.isArray(all) ? all : [];
  } catch {
    return []; // a torn file loses the list, never the bot
  }
}

function writeList(file: string, all: PendingEdit[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // The file can hold interaction tokens (15-minute webhook rights): readable by the bot's user only.
  writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
  renameSync(tmp, file); // atomic: a crash leaves the old list or the new one
}
