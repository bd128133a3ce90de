/** Shared set-up for the storage tests: real database files in fresh temp folders, and a cast of people. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Actor, Storage, StorageOptions } from '../../../src/storage/index.js';
import { openStorage } from '../../../src/storage/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'asyrp-storage-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A controllable clock: tests move time forward instead of sleeping. */
export function fakeClock(start = Date.UTC(2026, 0, 15, 12)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

export function openTemp(options: Partial<StorageOptions> = {}): { storage: Storage; path: string; dir: string } {
  const dir = tempDir();
  const path = join(dir, 'data', 'asyrp.db');
  const storage = openStorage({ path, ...options });
  cleanups.unshift(() => storage.close()); // close before the folder is removed
  return { storage, path, dir };
}

export interface Cast {
  owner: Actor;
  /** The owner's Slack identity, linked to the same account. */
  ownerOnSlack: Actor;
  admin: Actor;
  member: Actor;
  otherServer: Actor;
  otherPlatform: Actor;
}

/** The people of the permission matrix. Server g1 on Discord is "the server"; T1 is a Slack workspace. */
export function makeCast(storage: Storage): Cast {
  const person = (platform: 'discord' | 'slack', serverId: string, userId: string, isServerAdmin = false): Actor => {
    const id = storage.accounts.ensureIdentity({ platform, serverId, userId, displayName: userId });
    return { accountId: id.accountId, platform, serverId, isServerAdmin };
  };
  const owner = person('discord', 'g1', 'owner');
  const ownerSlack = person('slack', 'T1', 'owner-slack');
  if (ownerSlack.accountId !== owner.accountId) {
    // First time on this database (makeCast may be called again on a reopened file).
    const { code } = storage.accounts.issueLinkCode({ accountId: owner.accountId, platform: 'discord' });
    storage.accounts.redeemLinkCode(code, { accountId: ownerSlack.accountId, platform: 'slack' });
  }
  return {
    owner,
    ownerOnSlack: { ...ownerSlack, accountId: owner.accountId },
    admin: person('discord', 'g1', 'admin', true),
    member: person('discord', 'g1', 'member'),
    otherServer: person('discord', 'g2', 'stranger', true),
    otherPlatform: person('slack', 'T1', 'slacker', true),
  };
}

/** Runs fn and returns the StorageError code it threw, or 'ok'. */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code !== 'string') throw e;
    return code;
  }
}
