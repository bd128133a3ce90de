/** Identities, accounts and one-time link codes between Discord and Slack. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeClock, openTemp, outcome } from './support/fixtures.js';

describe('accounts and identities', () => {
  it('one Discord user on two servers is one account; Slack users per workspace are separate', () => {
    const { storage } = openTemp();
    const a = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '42', displayName: 'Ada' });
    const b = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g2', userId: '42', displayName: 'Ada L.' });
    expect(b.accountId).toBe(a.accountId);
    expect(b.id).not.toBe(a.id);
    const s1 = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U1', displayName: 'Ada' });
    expect(s1.accountId).not.toBe(a.accountId);
    expect(storage.accounts.get(s1.accountId).handle).toBe('ada-2'); // handles are unique
  });

  it('ensureIdentity is idempotent and follows display name changes', () => {
    const { storage } = openTemp();
    const a = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U1', displayName: 'Bo' });
    const again = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U1', displayName: 'Bo (away)' });
    expect(again).toMatchObject({ id: a.id, accountId: a.accountId, displayName: 'Bo (away)' });
    expect(storage.accounts.get(a.accountId).identities).toHaveLength(1);
    expect(storage.accounts.get(a.accountId).handle).toBe('bo');
  });

  it('a link code joins a Slack identity to a Discord account, with its presets and stars, once', () => {
    const { storage } = openTemp();
    const d = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '7', displayName: 'Cy' });
    const s = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U7', displayName: 'Cy' });
    const dActor = { accountId: d.accountId, platform: 'discord' as const, serverId: 'g1', isServerAdmin: false };
    const sActor = { accountId: s.accountId, platform: 'slack' as const, serverId: 'T1', isServerAdmin: false };
    const pub = storage.presets.create(dActor, { name: 'both-star', recipe: 'smile', modelId: 'm1', scope: 'public' });
    storage.presets.star(dActor, pub.id);
    storage.presets.star(sActor, pub.id);
    storage.presets.create(sActor, { name: 'from-slack', recipe: 'smile', modelId: 'm1' });
    const { code } = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' });
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    const merged = storage.accounts.redeemLinkCode(code.toLowerCase(), { accountId: s.accountId, platform: 'slack' });
    expect(merged.id).toBe(d.accountId);
    expect(merged.identities.map((i) => i.platform).sort()).toEqual(['discord', 'slack']);
    expect(storage.presets.listOwn(dActor).map((p) => p.name).sort()).toEqual(['both-star', 'from-slack']);
    expect(storage.presets.get(dActor, pub.id).starCount).toBe(1);
    expect(outcome(() => storage.accounts.get(s.accountId))).toBe('NOT_FOUND');
    expect(outcome(() => storage.accounts.redeemLinkCode(code, { accountId: s.accountId, platform: 'slack' }))).toBe('LINK_CODE_INVALID');
    expect(storage.integrityProblems()).toEqual([]);
  });

  it('codes expire, are refused on the issuing platform, and a clash of preset names changes nothing', () => {
    const clock = fakeClock();
    const { storage } = openTemp({ clock: clock.now });
    const d = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '8', displayName: 'Di' });
    const d2 = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '9', displayName: 'Ed' });
    const s = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U8', displayName: 'Di' });
    const late = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' }, 60_000);
    clock.advance(60_001);
    expect(outcome(() => storage.accounts.redeemLinkCode(late.code, { accountId: s.accountId, platform: 'slack' }))).toBe('LINK_CODE_INVALID');
    const { code } = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' });
    expect(outcome(() => storage.accounts.redeemLinkCode(code, { accountId: d2.accountId, platform: 'discord' }))).toBe('LINK_CODE_INVALID');
    expect(outcome(() => storage.accounts.redeemLinkCode('WRONG123', { accountId: s.accountId, platform: 'slack' }))).toBe('LINK_CODE_INVALID');
    storage.presets.create({ accountId: d.accountId, platform: 'discord', serverId: 'g1', isServerAdmin: false }, { name: 'dup', recipe: 'smile', modelId: 'm1' });
    storage.presets.create({ accountId: s.accountId, platform: 'slack', serverId: 'T1', isServerAdmin: false }, { name: 'dup', recipe: 'frown', modelId: 'm1' });
    expect(outcome(() => storage.accounts.redeemLinkCode(code, { accountId: s.accountId, platform: 'slack' }))).toBe('NAME_TAKEN');
    expect(storage.accounts.get(s.accountId).identities).toHaveLength(1); // nothing moved
    // The code survived the refused attempt: after a rename the person can retry.
    const sp = storage.presets.listOwn({ accountId: s.accountId, platform: 'slack', serverId: 'T1', isServerAdmin: false })[0]!;
    storage.presets.update({ accountId: s.accountId, platform: 'slack', serverId: 'T1', isServerAdmin: false }, sp.id, { name: 'dup-2' });
    expect(storage.accounts.redeemLinkCode(code, { accountId: s.accountId, platform: 'slack' }).id).toBe(d.accountId);
  });

  it('an account already linked to the platform refuses a second identity of it', () => {
    const { storage } = openTemp();
    const d = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '1', displayName: 'Fa' });
    const s1 = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U1', displayName: 'Fa' });
    const s2 = storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T2', userId: 'U2', displayName: 'Fa' });
    storage.accounts.redeemLinkCode(storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' }).code, { accountId: s1.accountId, platform: 'slack' });
    const again = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' }).code;
    expect(outcome(() => storage.accounts.redeemLinkCode(again, { accountId: s2.accountId, platform: 'slack' }))).toBe('ALREADY_LINKED');
    const self = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'slack' }).code;
    expect(outcome(() => storage.accounts.redeemLinkCode(self, { accountId: d.accountId, platform: 'discord' }))).toBe('ALREADY_LINKED');
  });

  it('stores only a hash of link codes', () => {
    const { storage, path } = openTemp();
    const d = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: '1', displayName: 'Gi' });
    const { code } = storage.accounts.issueLinkCode({ accountId: d.accountId, platform: 'discord' });
    storage.close();
    // Closing checkpoints the WAL into the main file, so every stored byte is in `path` now.
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(readFileSync(path).toString('latin1').includes(code)).toBe(false);
  });
});
