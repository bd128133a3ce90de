/**
 * The bots' read model (src/storage/read-model.ts) answers what the repositories answer, from memory,
 * after every kind of write the repositories make: it is loaded once and kept current by their writes.
 * Each step compares the model with the repository (and with a model freshly loaded from the file).
 */
import { describe, expect, it } from 'vitest';
import type { Actor, Storage } from '../../src/storage/index.js';
import { openStorage } from '../../src/storage/index.js';
import { makeCast, openTemp, outcome } from './support/fixtures.js';

/** What resolve gives (preset id, or the error code) through the repository, the live model and a fresh one. */
function resolved(storage: Storage, path: string, actor: Actor, ref: string): { repo: string; model: string; fresh: string } {
  const id = (fn: () => { id: number }) => {
    let r = '';
    const code = outcome(() => (r = String(fn().id)));
    return code === 'ok' ? r : code;
  };
  const fresh = openStorage({ path });
  try {
    return { repo: id(() => storage.presets.resolve(actor, ref)), model: id(() => storage.readModel().resolve(actor, ref)), fresh: id(() => fresh.readModel().resolve(actor, ref)) };
  } finally {
    fresh.close();
  }
}

function agrees(storage: Storage, path: string, actors: Actor[], refs: string[]): void {
  for (const a of actors) {
    for (const ref of refs) {
      const r = resolved(storage, path, a, ref);
      expect(r.model, `${a.platform}/${a.serverId}/${a.accountId} ${ref}`).toBe(r.repo);
      expect(r.fresh, `${a.platform}/${a.serverId}/${a.accountId} ${ref} (fresh)`).toBe(r.repo);
    }
  }
}

describe('read model', () => {
  it('resolves presets as the repository does through create, star, share, rename, fork, delete and an account merge', () => {
    const { storage, path } = openTemp();
    const model = storage.readModel(); // loaded before the writes: everything after is write-through
    const c = makeCast(storage);
    const actors = [c.owner, c.admin, c.member, c.otherServer, c.otherPlatform];
    const refs = ['glow', 'pop', '@stranger/glow', 'nothing', 'mine'];
    storage.presets.create(c.otherServer, { name: 'glow', recipe: 'light:0.3', modelId: 'm1', scope: 'public' });
    const server = storage.presets.create(c.admin, { name: 'glow', recipe: 'light:0.6', modelId: 'm1', scope: 'server' });
    const mine = storage.presets.create(c.member, { name: 'mine', recipe: 'smile', modelId: 'm1' });
    storage.presets.create(c.owner, { name: 'pop', recipe: 'smile', modelId: 'm1', scope: 'public' });
    const b = storage.presets.create(c.otherPlatform, { name: 'pop', recipe: 'frown', modelId: 'm1', scope: 'public' });
    agrees(storage, path, actors, refs);
    storage.presets.star(c.member, b.id);
    agrees(storage, path, actors, refs);
    storage.presets.update(c.member, mine.id, { scope: 'public', name: 'glow' });
    agrees(storage, path, actors, refs);
    storage.presets.fork(c.otherServer, mine.id, { name: 'mine' });
    storage.presets.remove(c.admin, server.id);
    storage.presets.unstar(c.member, b.id);
    agrees(storage, path, actors, refs);
    expect(model.listOwn(c.member, 10).map((p) => p.name)).toEqual(storage.presets.listOwn(c.member).map((p) => p.name));
    for (const a of actors) {
      for (const q of ['glow', 'GLO', 'ine', 'pop']) expect(model.search(a, q, 20).map((p) => p.id), q).toEqual(storage.presets.search(a, q).map((p) => p.id));
    }
    // A Slack newcomer links to the member's account: their identity and presets move.
    const newcomer = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'newbie', displayName: 'newbie' });
    expect(model.accountIdOf('slack', 'T1', 'newbie')).toBe(newcomer.accountId);
    const linked: Actor = { accountId: newcomer.accountId, platform: 'slack', serverId: 'T1', isServerAdmin: false };
    storage.presets.create(linked, { name: 'slacky', recipe: 'smile:0.2', modelId: 'm1' });
    const { code } = storage.accounts.issueLinkCode({ accountId: c.member.accountId, platform: 'discord' });
    storage.accounts.redeemLinkCode(code, { accountId: newcomer.accountId, platform: 'slack' });
    expect(model.accountIdOf('slack', 'T1', 'newbie')).toBe(c.member.accountId);
    agrees(storage, path, [...actors, { ...linked, accountId: c.member.accountId }], [...refs, 'slacky']);
    expect(model.accountIdOf('discord', 'g1', 'nobody')).toBeUndefined();
  });

  it('server settings and the channel list follow every change', () => {
    const { storage } = openTemp();
    const model = storage.readModel();
    const c = makeCast(storage);
    const same = () => {
      for (const [platform, serverId] of [['discord', 'g1'], ['discord', 'g2'], ['slack', 'T1']] as const) {
        expect(model.serverSettings(platform, serverId)).toEqual(storage.serverSettings.get(platform, serverId));
        for (const ch of ['c1', 'c2']) expect(model.isChannelAllowed(platform, serverId, ch)).toBe(storage.serverSettings.isChannelAllowed(platform, serverId, ch));
      }
    };
    same();
    storage.serverSettings.update(c.admin, { userEditsPerHour: 3, reactionsEnabled: false });
    storage.serverSettings.setAllowedChannels(c.admin, ['c1']);
    same();
    const p = storage.presets.create(c.admin, { name: 'wave', recipe: 'smile', modelId: 'm1', scope: 'server' });
    storage.serverSettings.setEmoji(c.admin, '👋', { presetId: p.id });
    storage.serverSettings.setEmoji(c.admin, '😀', { recipe: 'smile:0.5' });
    same();
    storage.presets.remove(c.admin, p.id); // takes its emoji mapping with it
    storage.serverSettings.removeEmoji(c.admin, '😀');
    storage.serverSettings.setAllowedChannels(c.admin, []);
    same();
    expect(model.serverSettings('discord', 'g1').emoji).toEqual([]);
  });
});
