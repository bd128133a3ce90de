/**
 * Ack-first bookkeeping: the dedupe ledger decides duplicates in memory (no database write before the
 * ack), persists after, and a fresh process (a restart) loads what was persisted; image files are
 * written whole or not at all.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DedupeLedger } from '../../src/bots/core/dedupe-ledger.js';
import { ImageStore } from '../../src/bots/core/image-store.js';
import { PendingEdits } from '../../src/bots/core/pending-edits.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Storage } from '../../src/storage/index.js';
import { openStorage } from '../../src/storage/index.js';
import { tempDir } from '../helpers/paths.js';

const log = silentLogger;
const opened: Storage[] = [];
const open = (path: string) => {
  const s = openStorage({ path });
  opened.push(s);
  return s;
};
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

describe('DedupeLedger', () => {
  it('decides in memory, writes only after persist, and stops the duplicate after a restart', () => {
    const path = join(tempDir('asyrp-ledger-'), 'bot.db');
    const storage = open(path);
    const ledger = new DedupeLedger(storage.idempotency, { prefixes: ['discord:interaction:'], log });
    expect(ledger.load()).toBe(0);
    const before = storage.idempotency.count();
    expect(ledger.admit('discord:interaction:1')).toBe(true);
    expect(ledger.admit('discord:interaction:1')).toBe(false); // the replay, in memory
    expect(storage.idempotency.count()).toBe(before); // nothing written before the ack
    ledger.persist('discord:interaction:1');
    ledger.flush();
    expect(storage.idempotency.count()).toBe(before + 1);
    storage.close();

    // A new process on the same file: the key comes back from the database.
    const again = open(path);
    const fresh = new DedupeLedger(again.idempotency, { prefixes: ['discord:interaction:'], log });
    expect(fresh.load()).toBe(1);
    expect(fresh.admit('discord:interaction:1')).toBe(false);
    expect(fresh.admit('discord:interaction:2')).toBe(true);
  });

  it('persists the keys of one turn in one write, and loads only its own prefixes and unexpired keys', async () => {
    let now = 1_000_000;
    const path = join(tempDir('asyrp-ledger-'), 'bot.db');
    const storage = openStorage({ path, clock: () => now });
    opened.push(storage);
    const ledger = new DedupeLedger(storage.idempotency, { prefixes: ['slack:'], log, ttlMs: 60_000, now: () => now });
    for (let n = 0; n < 50; n++) expect(ledger.admitAcked(`slack:event:${n}`)).toBe(true);
    await new Promise((r) => setImmediate(r)); // the flush runs on the next turn
    expect(storage.idempotency.claimAll(['slack:event:0', 'slack:event:49', 'slack:event:50'], 60_000)).toEqual(['slack:event:0', 'slack:event:49']);
    storage.idempotency.claim('discord:interaction:9');
    expect(new DedupeLedger(storage.idempotency, { prefixes: ['slack:'], log, now: () => now }).load()).toBe(51);
    now += 61_000; // past the ttl: expired keys are neither loaded nor refused
    const later = new DedupeLedger(storage.idempotency, { prefixes: ['slack:'], log, ttlMs: 60_000, now: () => now });
    expect(later.load()).toBe(0);
    expect(later.admit('slack:event:0')).toBe(true);
  });
});

describe('PendingEdits', () => {
  const entry = (editId: number, platform: 'discord' | 'slack') => ({ editId, jobId: `j${editId}`, kind: 'edit' as const, platform, userId: 'u', channelId: 'c', caption: 'x', createdAt: 1 });

  it('keeps one file per platform, so two bot processes on one data folder never overwrite each other', () => {
    const dir = tempDir('asyrp-pending-');
    const discord = new PendingEdits(dir); // as in the Discord process
    const slack = new PendingEdits(dir); // as in the Slack process
    discord.add(entry(1, 'discord'));
    slack.add(entry(2, 'slack'));
    discord.add(entry(3, 'discord'));
    expect(new PendingEdits(dir).list().map((p) => p.editId).sort()).toEqual([1, 2, 3]);
    discord.remove(1);
    expect(new PendingEdits(dir).list('discord').map((p) => p.editId)).toEqual([3]);
    expect(new PendingEdits(dir).list('slack').map((p) => p.editId)).toEqual([2]);
  });

  it('adopts the single file of earlier versions, platform by platform', () => {
    const dir = tempDir('asyrp-pending-');
    writeFileSync(join(dir, 'pending-edits.json'), JSON.stringify([entry(5, 'discord'), entry(6, 'slack')]));
    expect(new PendingEdits(dir).list('discord').map((p) => p.editId)).toEqual([5]);
    expect(JSON.parse(readFileSync(join(dir, 'pending-edits.json'), 'utf8'))).toHaveLength(1); // slack's entry waits for Slack
    expect(new PendingEdits(dir).list('slack').map((p) => p.editId)).toEqual([6]);
    expect(existsSync(join(dir, 'pending-edits.json'))).toBe(false);
    expect(new PendingEdits(dir).list().map((p) => p.editId).sort()).toEqual([5, 6]);
  });
});

describe('ImageStore', () => {
  it('writes through a temporary file and leaves none behind, also when the write fails', () => {
    const dir = tempDir('asyrp-images-');
    const store = new ImageStore(dir);
    const input = store.saveInput(new Uint8Array([1, 2, 3]));
    expect([...readFileSync(input.path)]).toEqual([1, 2, 3]);
    const out = store.saveResult(7, 'after', new Uint8Array([4, 5]));
    expect([...readFileSync(out)]).toEqual([4, 5]);
    // A folder where the result should go: the rename fails, the error surfaces, no temp file stays.
    mkdirSync(join(dir, 'results', '8-after.png'), { recursive: true });
    expect(() => store.saveResult(8, 'after', new Uint8Array([6]))).toThrow();
    expect(readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(join(dir, 'inputs')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
