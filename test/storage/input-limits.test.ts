/** Input limits of issue #5, each with its own error code, and nothing written when one is broken. */
import { describe, expect, it } from 'vitest';
import { makeCast, openTemp, outcome } from './support/fixtures.js';

describe('preset input limits', () => {
  const setup = () => {
    const { storage } = openTemp();
    return { storage, actor: makeCast(storage).member };
  };

  it('names are 1-32 characters of a-z 0-9 - _', () => {
    const { storage, actor } = setup();
    const make = (name: string) => outcome(() => storage.presets.create(actor, { name, recipe: 'smile', modelId: 'm1' }));
    expect(make('a')).toBe('ok');
    expect(make('a'.repeat(32))).toBe('ok');
    expect(make('snake_and-kebab-09')).toBe('ok');
    expect(make('')).toBe('INVALID_NAME');
    expect(make('a'.repeat(33))).toBe('INVALID_NAME');
    expect(make('Smile')).toBe('INVALID_NAME'); // not lower-cased behind the person's back
    expect(make('big smile')).toBe('INVALID_NAME');
    expect(make('smile!')).toBe('INVALID_NAME');
    expect(make('-smile')).toBe('INVALID_NAME'); // could not be typed in a recipe
    expect(make('ŝmile')).toBe('INVALID_NAME');
    expect(storage.presets.listOwn(actor).map((p) => p.name).sort()).toEqual(['a', 'a'.repeat(32), 'snake_and-kebab-09']);
  });

  it('descriptions are at most 200 characters (counted as characters, not UTF-16 units)', () => {
    const { storage, actor } = setup();
    const make = (name: string, description: string) => outcome(() => storage.presets.create(actor, { name, recipe: 'smile', modelId: 'm1', description }));
    expect(make('d1', 'x'.repeat(200))).toBe('ok');
    expect(make('d2', '😀'.repeat(200))).toBe('ok');
    expect(make('d3', 'x'.repeat(201))).toBe('INVALID_DESCRIPTION');
    const p = storage.presets.resolve(actor, 'd1');
    expect(outcome(() => storage.presets.update(actor, p.id, { description: 'y'.repeat(201) }))).toBe('INVALID_DESCRIPTION');
  });

  it('recipes must parse, name at least one and at most 10 directions, and are stored normalized', () => {
    const { storage, actor } = setup();
    const make = (name: string, recipe: string) => outcome(() => storage.presets.create(actor, { name, recipe, modelId: 'm1' }));
    const ten = Array.from({ length: 10 }, (_, i) => `d${i}`).join(' ');
    expect(make('ten', ten)).toBe('ok');
    expect(make('eleven', `${ten} d10`)).toBe('INVALID_RECIPE');
    expect(make('bad', 'smile strength:lots')).toBe('INVALID_RECIPE');
    expect(make('empty', 'steps:30')).toBe('INVALID_RECIPE');
    expect(make('nested', '@someone/other')).toBe('INVALID_RECIPE');
    expect(make('norm', 'Smile 0.80,  Age=-0.5 STEPS:40')).toBe('ok');
    expect(storage.presets.resolve(actor, 'norm').recipe).toBe('smile:0.8 age:-0.5 steps:40');
  });

  it('an account keeps at most 100 presets, including forks', () => {
    const { storage } = openTemp();
    const cast = makeCast(storage);
    for (let i = 0; i < 100; i++) storage.presets.create(cast.member, { name: `p${i}`, recipe: 'smile', modelId: 'm1' });
    expect(outcome(() => storage.presets.create(cast.member, { name: 'p100', recipe: 'smile', modelId: 'm1' }))).toBe('TOO_MANY_PRESETS');
    const shared = storage.presets.create(cast.owner, { name: 'shared', recipe: 'smile', modelId: 'm1', scope: 'public' });
    expect(outcome(() => storage.presets.fork(cast.member, shared.id))).toBe('TOO_MANY_PRESETS');
    storage.presets.remove(cast.member, storage.presets.resolve(cast.member, 'p0').id);
    expect(outcome(() => storage.presets.fork(cast.member, shared.id))).toBe('ok');
  });

  it('names are unique per owner, not globally', () => {
    const { storage } = openTemp();
    const cast = makeCast(storage);
    const make = (who: 'member' | 'admin', name: string) => outcome(() => storage.presets.create(cast[who], { name, recipe: 'smile', modelId: 'm1' }));
    expect(make('member', 'same')).toBe('ok');
    expect(make('member', 'same')).toBe('NAME_TAKEN');
    expect(make('admin', 'same')).toBe('ok');
    const other = storage.presets.create(cast.member, { name: 'other', recipe: 'smile', modelId: 'm1' });
    expect(outcome(() => storage.presets.update(cast.member, other.id, { name: 'same' }))).toBe('NAME_TAKEN');
  });

  it('other fields are checked too', () => {
    const { storage, actor } = setup();
    expect(outcome(() => storage.presets.create(actor, { name: 'x', recipe: 'smile', modelId: '' }))).toBe('INVALID_INPUT');
    expect(outcome(() => storage.presets.create(actor, { name: 'x', recipe: 'smile', modelId: 'm1', scope: 'everyone' as never }))).toBe('INVALID_INPUT');
    expect(outcome(() => storage.presets.search(actor, ''))).toBe('INVALID_INPUT');
    expect(outcome(() => storage.presets.list(actor, 'top', { limit: 101 }))).toBe('INVALID_INPUT');
    expect(outcome(() => storage.accounts.ensureIdentity({ platform: 'matrix' as never, serverId: 's', userId: 'u', displayName: 'n' }))).toBe('INVALID_INPUT');
    expect(outcome(() => storage.accounts.ensureIdentity({ platform: 'slack', serverId: 's', userId: 'u\n', displayName: 'n' }))).toBe('INVALID_INPUT');
  });
});
