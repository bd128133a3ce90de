/** Server settings, idempotency keys and persisted engine jobs. */
import { describe, expect, it } from 'vitest';
import { fakeClock, makeCast, openTemp, outcome } from './support/fixtures.js';

describe('server settings', () => {
  it('defaults until an admin changes them; only an admin of that server may', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    expect(storage.serverSettings.get('discord', 'g1')).toEqual({
      platform: 'discord', serverId: 'g1', defaultModel: null, reactionsEnabled: true, userEditsPerHour: null, serverEditsPerHour: null, emoji: [], allowedChannels: [],
    });
    expect(outcome(() => storage.serverSettings.update(c.member, { reactionsEnabled: false }))).toBe('FORBIDDEN');
    const s = storage.serverSettings.update(c.admin, { reactionsEnabled: false, defaultModel: 'ffhq-256', userEditsPerHour: 20 });
    expect(s).toMatchObject({ reactionsEnabled: false, defaultModel: 'ffhq-256', userEditsPerHour: 20, serverEditsPerHour: null });
    expect(storage.serverSettings.update(c.admin, { serverEditsPerHour: 200 })).toMatchObject({ reactionsEnabled: false, userEditsPerHour: 20, serverEditsPerHour: 200 });
    // An admin elsewhere changes their own server, never g1.
    storage.serverSettings.update(c.otherServer, { reactionsEnabled: true, defaultModel: 'x' });
    expect(storage.serverSettings.get('discord', 'g1').defaultModel).toBe('ffhq-256');
    expect(outcome(() => storage.serverSettings.update(c.admin, { userEditsPerHour: -1 }))).toBe('INVALID_INPUT');
  });

  it('maps emoji to recipes or to presets everyone in the server can see', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    expect(storage.serverSettings.setEmoji(c.admin, '😀', { recipe: 'Smile 0.5' })).toEqual({ emoji: '😀', recipe: 'smile:0.5', presetId: null });
    expect(outcome(() => storage.serverSettings.setEmoji(c.admin, '💥', { recipe: 'smile strength:x' }))).toBe('INVALID_RECIPE');
    const priv = storage.presets.create(c.admin, { name: 'mine', recipe: 'age', modelId: 'm1' });
    const srv = storage.presets.create(c.member, { name: 'ours', recipe: 'age', modelId: 'm1', scope: 'server' });
    expect(outcome(() => storage.serverSettings.setEmoji(c.admin, '👴', { presetId: priv.id }))).toBe('NOT_FOUND');
    storage.serverSettings.setEmoji(c.admin, '👴', { presetId: srv.id });
    expect(storage.serverSettings.emojiAction('discord', 'g1', '👴')?.presetId).toBe(srv.id);
    expect(outcome(() => storage.serverSettings.setEmoji(c.member, '🙂', { recipe: 'smile' }))).toBe('FORBIDDEN');
    storage.presets.remove(c.member, srv.id);
    expect(storage.serverSettings.emojiAction('discord', 'g1', '👴')).toBeUndefined();
    expect(storage.serverSettings.removeEmoji(c.admin, '😀')).toBe(true);
  });

  it('allowed channels: none listed means all', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    expect(storage.serverSettings.isChannelAllowed('discord', 'g1', 'c9')).toBe(true);
    storage.serverSettings.setAllowedChannels(c.admin, ['c1', 'c2']);
    expect(storage.serverSettings.isChannelAllowed('discord', 'g1', 'c1')).toBe(true);
    expect(storage.serverSettings.isChannelAllowed('discord', 'g1', 'c9')).toBe(false);
    expect(storage.serverSettings.isChannelAllowed('discord', 'g2', 'c9')).toBe(true);
    storage.serverSettings.setAllowedChannels(c.admin, []);
    expect(storage.serverSettings.isChannelAllowed('discord', 'g1', 'c9')).toBe(true);
  });
});

describe('idempotency keys', () => {
  it('the first delivery claims a key, redeliveries see its result, and it expires', () => {
    const clock = fakeClock();
    const { storage } = openTemp({ clock: clock.now });
    expect(storage.idempotency.claim('discord:interaction:1', 60_000)).toEqual({ claimed: true });
    storage.idempotency.setResult('discord:interaction:1', 'job-1');
    expect(storage.idempotency.claim('discord:interaction:1', 60_000)).toEqual({ claimed: false, result: 'job-1' });
    clock.advance(60_000);
    expect(storage.idempotency.claim('discord:interaction:1', 60_000)).toEqual({ claimed: true });
    storage.idempotency.claim('slack:event:2', 1000);
    clock.advance(1000);
    expect(storage.idempotency.purgeExpired()).toBe(1);
    expect(storage.idempotency.count()).toBe(1);
  });
});

describe('engine jobs', () => {
  const job = { kind: 'edit' as const, modelId: 'celeba-256', recipe: 'smile:0.8', inputPath: 'data/in/a.png', inputHash: 'sha256:a' };

  it('queue, claim in order, progress, finish; illegal moves are INVALID_STATE', () => {
    const clock = fakeClock();
    const { storage } = openTemp({ clock: clock.now });
    const a = storage.jobs.insert({ ...job, id: 'a' }).job;
    clock.advance(1);
    storage.jobs.insert({ ...job, id: 'b', kind: 'sweep' });
    expect(a).toMatchObject({ status: 'queued', attempts: 0, progressStep: 0 });
    const claimed = storage.jobs.claimNext()!;
    expect(claimed).toMatchObject({ id: 'a', status: 'running', attempts: 1, startedAt: clock.now() });
    storage.jobs.updateProgress('a', 10, 50);
    expect(storage.jobs.get('a')).toMatchObject({ progressStep: 10, progressTotal: 50 });
    expect(storage.jobs.markDone('a', 'data/out/a.png')).toMatchObject({ status: 'done', resultPath: 'data/out/a.png' });
    expect(outcome(() => storage.jobs.markCancelled('a'))).toBe('INVALID_STATE');
    expect(outcome(() => storage.jobs.markDone('b', 'x'))).toBe('INVALID_STATE');
    expect(storage.jobs.markCancelled('b').status).toBe('cancelled');
    expect(storage.jobs.claimNext()).toBeUndefined();
    expect(outcome(() => storage.jobs.get('zzz'))).toBe('NOT_FOUND');
    expect(outcome(() => storage.jobs.insert({ ...job, kind: 'paint' as never }))).toBe('INVALID_INPUT');
  });

  it('an idempotency key maps a redelivered request to the job already queued', () => {
    const { storage } = openTemp();
    const first = storage.jobs.insert({ ...job, idempotencyKey: 'slack:event:9' });
    const again = storage.jobs.insert({ ...job, idempotencyKey: 'slack:event:9' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ job: first.job, created: false });
    expect(storage.jobs.findByIdempotencyKey('slack:event:9')).toEqual(first.job);
    expect(storage.jobs.findByIdempotencyKey('slack:event:10')).toBeUndefined();
  });

  it('recovery at restart: running jobs go back to the queue, repeat offenders fail', () => {
    const { storage } = openTemp();
    storage.jobs.insert({ ...job, id: 'q' });
    storage.jobs.insert({ ...job, id: 'r' });
    storage.jobs.markRunning('r');
    storage.jobs.updateProgress('r', 5, 50);
    expect(storage.jobs.listUnfinished().map((j) => [j.id, j.status])).toEqual([
      ['q', 'queued'],
      ['r', 'running'],
    ]);
    expect(storage.jobs.requeueInterrupted()).toBe(1);
    expect(storage.jobs.get('r')).toMatchObject({ status: 'queued', progressStep: 0, attempts: 1 });
    storage.jobs.markRunning('r');
    expect(storage.jobs.requeueInterrupted()).toBe(1);
    expect(storage.jobs.get('r')).toMatchObject({ status: 'queued', attempts: 2 });
    // Interrupted on its third start (default maxAttempts 3): it fails instead of crashing the service forever.
    storage.jobs.markRunning('r');
    expect(storage.jobs.requeueInterrupted()).toBe(0);
    expect(storage.jobs.get('r')).toMatchObject({ status: 'failed', errorCode: 'INTERRUPTED', attempts: 3 });
  });
});
