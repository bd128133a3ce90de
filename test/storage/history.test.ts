/** The edit history: a tree through parent ids, one-way status changes, and who can read an entry. */
import { describe, expect, it } from 'vitest';
import type { NewHistoryEntry } from '../../src/storage/index.js';
import { fakeClock, makeCast, openTemp, outcome } from './support/fixtures.js';

describe('history', () => {
  const entry = (accountId: number, extra: Partial<NewHistoryEntry> = {}): NewHistoryEntry => ({
    accountId,
    platform: 'discord',
    serverId: 'g1',
    channelId: 'c1',
    inputHash: 'sha256:abc',
    inputPath: 'data/inputs/abc.png',
    recipe: 'smile:0.8',
    modelId: 'celeba-256',
    ...extra,
  });

  it('weaker, stronger and undo make a tree; lineage walks back to the root', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const root = storage.history.record(entry(c.member.accountId));
    const weaker = storage.history.record(entry(c.member.accountId, { recipe: 'smile:0.4', parentId: root.id }));
    const stronger = storage.history.record(entry(c.member.accountId, { recipe: 'smile:1.2', parentId: root.id }));
    const again = storage.history.record(entry(c.member.accountId, { recipe: 'smile:1.6', parentId: stronger.id }));
    expect(storage.history.children(root.id).map((e) => e.id)).toEqual([weaker.id, stronger.id]);
    expect(storage.history.lineage(again.id).map((e) => e.id)).toEqual([root.id, stronger.id, again.id]);
    expect(outcome(() => storage.history.record(entry(c.member.accountId, { parentId: 999 })))).toBe('NOT_FOUND');
  });

  it('status goes queued -> running -> done with timings, and never back', () => {
    const clock = fakeClock();
    const { storage } = openTemp({ clock: clock.now });
    const c = makeCast(storage);
    const e = storage.history.record(entry(c.member.accountId));
    expect(e).toMatchObject({ status: 'queued', queuedAt: clock.now(), startedAt: null });
    clock.advance(500);
    expect(storage.history.markStarted(e.id)).toMatchObject({ status: 'running', startedAt: clock.now() });
    clock.advance(4000);
    const done = storage.history.finish(e.id, { status: 'done', outputPath: 'data/out/1.png' });
    expect(done).toMatchObject({ status: 'done', finishedAt: clock.now(), outputPath: 'data/out/1.png', errorCode: null });
    expect(outcome(() => storage.history.markStarted(e.id))).toBe('INVALID_STATE');
    expect(outcome(() => storage.history.finish(e.id, { status: 'failed', errorCode: 'X' }))).toBe('INVALID_STATE');
    const failed = storage.history.record(entry(c.member.accountId));
    expect(storage.history.finish(failed.id, { status: 'failed', errorCode: 'IMAGE_CORRUPT' }).errorCode).toBe('IMAGE_CORRUPT');
  });

  it('an entry is visible to its owner and to the server it was posted in, not elsewhere', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const e = storage.history.record(entry(c.owner.accountId));
    expect(outcome(() => storage.history.get(c.owner, e.id))).toBe('ok');
    expect(outcome(() => storage.history.get(c.ownerOnSlack, e.id))).toBe('ok');
    expect(outcome(() => storage.history.get(c.member, e.id))).toBe('ok');
    expect(outcome(() => storage.history.get(c.otherServer, e.id))).toBe('NOT_FOUND');
    expect(outcome(() => storage.history.get(c.otherPlatform, e.id))).toBe('NOT_FOUND');
  });

  it('finds an edit by its result message and pages a person\'s history newest first', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const ids = Array.from({ length: 5 }, () => storage.history.record(entry(c.member.accountId)).id);
    storage.history.setMessage(ids[2]!, 'msg-3');
    expect(storage.history.findByMessage('discord', 'msg-3')?.id).toBe(ids[2]);
    expect(storage.history.findByMessage('slack', 'msg-3')).toBeUndefined();
    const first = storage.history.listForAccount(c.member.accountId, { limit: 2 });
    expect(first.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(storage.history.listForAccount(c.member.accountId, { limit: 2, beforeId: first[1]!.id }).map((e) => e.id)).toEqual([ids[2], ids[1]]);
  });

  it('deleting a preset keeps the history that used it', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.member, { name: 'gone', recipe: 'smile', modelId: 'm1' });
    const e = storage.history.record(entry(c.member.accountId, { presetId: p.id }));
    storage.presets.remove(c.member, p.id);
    expect(storage.history.get(c.member, e.id).presetId).toBeNull();
  });
});
