/** Preset behaviour beyond permissions: lookup order, references, search, fork, versions, stars, uses, listings. */
import { describe, expect, it } from 'vitest';
import { fakeClock, makeCast, openTemp, outcome } from './support/fixtures.js';

const DAY = 86_400_000;

describe('presets', () => {
  it('a bare name resolves to your own, then this server\'s, then a public preset', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    storage.presets.create(c.otherServer, { name: 'glow', recipe: 'light:0.3', modelId: 'm1', scope: 'public' });
    expect(storage.presets.resolve(c.member, 'glow').recipe).toBe('light:0.3');
    storage.presets.create(c.admin, { name: 'glow', recipe: 'light:0.6', modelId: 'm1', scope: 'server' });
    expect(storage.presets.resolve(c.member, 'glow').recipe).toBe('light:0.6');
    expect(storage.presets.resolve(c.otherServer, 'glow').recipe).toBe('light:0.3');
    storage.presets.create(c.member, { name: 'glow', recipe: 'light:0.9', modelId: 'm1' });
    expect(storage.presets.resolve(c.member, 'glow').recipe).toBe('light:0.9');
    expect(storage.presets.resolve(c.member, '@stranger/glow').recipe).toBe('light:0.3');
    expect(outcome(() => storage.presets.resolve(c.member, 'nothing'))).toBe('NOT_FOUND');
    expect(outcome(() => storage.presets.resolve(c.member, '@nobody/glow'))).toBe('NOT_FOUND');
  });

  it('among several public presets of one name, the most starred wins', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    storage.presets.create(c.owner, { name: 'pop', recipe: 'smile', modelId: 'm1', scope: 'public' });
    const b = storage.presets.create(c.otherPlatform, { name: 'pop', recipe: 'frown', modelId: 'm1', scope: 'public' });
    expect(storage.presets.resolve(c.otherServer, 'pop').recipe).toBe('smile');
    storage.presets.star(c.member, b.id);
    expect(storage.presets.resolve(c.otherServer, 'pop').recipe).toBe('frown');
  });

  it('search matches name and description, treats % and _ literally, and pages', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    storage.presets.create(c.owner, { name: 'sunny', recipe: 'smile', modelId: 'm1', scope: 'public', description: 'warm light' });
    storage.presets.create(c.owner, { name: 'moody', recipe: 'frown', modelId: 'm1', scope: 'public', description: '100% drama' });
    storage.presets.create(c.owner, { name: 'snake_case', recipe: 'frown', modelId: 'm1', scope: 'public' });
    expect(storage.presets.search(c.member, 'light').map((p) => p.name)).toEqual(['sunny']);
    expect(storage.presets.search(c.member, '0%').map((p) => p.name)).toEqual(['moody']);
    expect(storage.presets.search(c.member, 'e_c').map((p) => p.name)).toEqual(['snake_case']);
    expect(storage.presets.search(c.member, 'o', { limit: 1 })).toHaveLength(1);
  });

  it('the search index follows renames, new descriptions and deletes, ignores case, and treats quotes literally', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.owner, { name: 'sunny', recipe: 'smile', modelId: 'm1', scope: 'public', description: 'Warm LIGHT' });
    storage.presets.create(c.owner, { name: 'quoted', recipe: 'smile', modelId: 'm1', scope: 'public', description: 'the "best" one' });
    const find = (q: string) => storage.presets.search(c.member, q).map((x) => x.name);
    expect(find('warm light')).toEqual(['sunny']);
    expect(find('"best"')).toEqual(['quoted']);
    expect(find('best" OR "x')).toEqual([]);
    storage.presets.update(c.owner, p.id, { name: 'bright', description: 'cold shade' });
    expect(find('warm')).toEqual([]);
    expect(find('shade')).toEqual(['bright']);
    expect(find('brig')).toEqual(['bright']);
    storage.presets.remove(c.owner, p.id);
    expect(find('shade')).toEqual([]);
    expect(storage.integrityProblems()).toEqual([]);
  });

  it('a new recipe makes a new version and keeps the old one; a description change does not', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.owner, { name: 'v', recipe: 'smile:0.5', modelId: 'm1' });
    expect(storage.presets.update(c.owner, p.id, { description: 'same recipe' }).version).toBe(1);
    const v2 = storage.presets.update(c.owner, p.id, { recipe: 'smile:0.7' });
    expect(v2.version).toBe(2);
    expect(storage.presets.versions(c.owner, p.id).map((v) => [v.version, v.recipe])).toEqual([
      [1, 'smile:0.5'],
      [2, 'smile:0.7'],
    ]);
  });

  it('setting scope server shares a preset with the server the owner is in now', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.ownerOnSlack, { name: 'roam', recipe: 'smile', modelId: 'm1' });
    expect(outcome(() => storage.presets.get(c.member, p.id))).toBe('NOT_FOUND');
    expect(storage.presets.update(c.owner, p.id, { scope: 'server' })).toMatchObject({ platform: 'discord', serverId: 'g1', scope: 'server' });
    expect(outcome(() => storage.presets.get(c.member, p.id))).toBe('ok');
    expect(outcome(() => storage.presets.get(c.otherPlatform, p.id))).toBe('NOT_FOUND');
    // Other changes leave the place alone.
    expect(storage.presets.update(c.ownerOnSlack, p.id, { description: 'from slack' })).toMatchObject({ platform: 'discord', serverId: 'g1' });
  });

  it('fork copies a visible preset into the forker\'s own, private by default, and remembers the source', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const src = storage.presets.create(c.owner, { name: 'orig', recipe: 'age:0.4', modelId: 'm1', scope: 'public', description: 'older' });
    const f = storage.presets.fork(c.otherPlatform, src.id);
    expect(f).toMatchObject({ name: 'orig', recipe: 'age:0.4', scope: 'private', forkedFrom: src.id, ownerId: c.otherPlatform.accountId, version: 1 });
    storage.presets.remove(c.owner, src.id);
    expect(storage.presets.get(c.otherPlatform, f.id).forkedFrom).toBeNull();
  });

  it('stars are one per account and counted; unstar takes it back', () => {
    const { storage } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.owner, { name: 's', recipe: 'smile', modelId: 'm1', scope: 'public' });
    expect(storage.presets.star(c.member, p.id)).toBe(true);
    expect(storage.presets.star(c.member, p.id)).toBe(false);
    expect(storage.presets.star(c.otherPlatform, p.id)).toBe(true);
    expect(storage.presets.get(c.owner, p.id).starCount).toBe(2);
    expect(storage.presets.unstar(c.member, p.id)).toBe(true);
    expect(storage.presets.unstar(c.member, p.id)).toBe(false);
    expect(storage.presets.get(c.owner, p.id).starCount).toBe(1);
  });

  it('top, new and trending listings', () => {
    const clock = fakeClock();
    const { storage } = openTemp({ clock: clock.now });
    const c = makeCast(storage);
    const old = storage.presets.create(c.owner, { name: 'old-star', recipe: 'smile', modelId: 'm1', scope: 'public' });
    for (const who of [c.member, c.admin, c.otherServer]) storage.presets.star(who, old.id);
    clock.advance(10 * DAY);
    const fresh = storage.presets.create(c.owner, { name: 'fresh', recipe: 'smile', modelId: 'm1', scope: 'public' });
    storage.presets.star(c.member, fresh.id);
    storage.presets.recordUse(c.member, fresh.id);
    storage.presets.recordUse(c.admin, fresh.id);
    clock.advance(1000);
    const local = storage.presets.create(c.admin, { name: 'local', recipe: 'smile', modelId: 'm1', scope: 'server' });
    const names = (actor: typeof c.member, l: 'top' | 'new' | 'trending') => storage.presets.list(actor, l).map((p) => p.name);
    expect(names(c.member, 'top')).toEqual(['old-star', 'fresh', 'local']);
    expect(names(c.member, 'new')).toEqual(['local', 'fresh', 'old-star']);
    expect(names(c.member, 'trending')).toEqual(['fresh']); // old-star's stars are 10 days old
    expect(names(c.otherServer, 'new')).toEqual(['fresh', 'old-star']);
    expect(storage.presets.get(c.owner, fresh.id).useCount).toBe(2);
    expect(storage.presets.list(c.member, 'top', { limit: 1, offset: 1 }).map((p) => p.name)).toEqual(['fresh']);
    clock.advance(8 * DAY);
    expect(names(c.member, 'trending')).toEqual([]);
    expect(local.scope).toBe('server');
  });
});
