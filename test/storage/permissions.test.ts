/**
 * The permission matrix of issue #5: who may see, change, delete, star and fork a preset, for each scope.
 * "otherServer" and "otherPlatform" are admins of their own servers, to show that admin rights do not
 * carry across servers or platforms.
 */
import { describe, expect, it } from 'vitest';
import type { Actor, PresetScope, Storage } from '../../src/storage/index.js';
import type { Cast } from './support/fixtures.js';
import { makeCast, openTemp, outcome } from './support/fixtures.js';

type Role = keyof Cast;
type Action = 'view' | 'resolve' | 'edit' | 'delete' | 'star' | 'fork';
const ROLES: Role[] = ['owner', 'ownerOnSlack', 'admin', 'member', 'otherServer', 'otherPlatform'];
const ACTIONS: Action[] = ['view', 'resolve', 'edit', 'delete', 'star', 'fork'];

// Expected outcome per scope, role and action; 'ok' or the StorageError code.
const NF = 'NOT_FOUND';
const FB = 'FORBIDDEN';
const EXPECTED: Record<PresetScope, Record<Role, Record<Action, string>>> = {
  private: {
    owner: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    ownerOnSlack: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    admin: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
    member: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
    otherServer: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
    otherPlatform: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
  },
  server: {
    owner: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    ownerOnSlack: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    admin: { view: 'ok', resolve: 'ok', edit: FB, delete: 'ok', star: 'ok', fork: 'ok' },
    member: { view: 'ok', resolve: 'ok', edit: FB, delete: FB, star: 'ok', fork: 'ok' },
    otherServer: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
    otherPlatform: { view: NF, resolve: NF, edit: NF, delete: NF, star: NF, fork: NF },
  },
  public: {
    owner: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    ownerOnSlack: { view: 'ok', resolve: 'ok', edit: 'ok', delete: 'ok', star: 'ok', fork: 'ok' },
    admin: { view: 'ok', resolve: 'ok', edit: FB, delete: FB, star: 'ok', fork: 'ok' },
    member: { view: 'ok', resolve: 'ok', edit: FB, delete: FB, star: 'ok', fork: 'ok' },
    otherServer: { view: 'ok', resolve: 'ok', edit: FB, delete: FB, star: 'ok', fork: 'ok' },
    otherPlatform: { view: 'ok', resolve: 'ok', edit: FB, delete: FB, star: 'ok', fork: 'ok' },
  },
};

function attempt(storage: Storage, actor: Actor, action: Action, id: number): string {
  const p = storage.presets;
  switch (action) {
    case 'view':
      return outcome(() => p.get(actor, id));
    case 'resolve':
      return outcome(() => p.resolve(actor, `@owner/smile-${id}`));
    case 'edit':
      return outcome(() => p.update(actor, id, { description: 'changed' }));
    case 'delete':
      return outcome(() => p.remove(actor, id));
    case 'star':
      return outcome(() => p.star(actor, id));
    case 'fork':
      return outcome(() => p.fork(actor, id, { name: `fork-${id}` }));
  }
}

describe('preset permission matrix', () => {
  for (const scope of ['private', 'server', 'public'] as const) {
    for (const role of ROLES) {
      it(`${scope} preset, ${role}`, () => {
        const { storage } = openTemp();
        const cast = makeCast(storage);
        const got: Record<string, string> = {};
        for (const action of ACTIONS) {
          // A fresh preset per action, so a delete does not hide the outcome of the next action.
          const created = storage.presets.create(cast.owner, { name: `tmp-${action}`, recipe: 'smile', modelId: 'm1', scope });
          const renamed = storage.presets.update(cast.owner, created.id, { name: `smile-${created.id}` });
          got[action] = attempt(storage, cast[role], action, renamed.id);
        }
        expect(got).toEqual(EXPECTED[scope][role]);
        expect(storage.integrityProblems()).toEqual([]);
      });
    }
  }

  it('a denied edit or delete changes nothing', () => {
    const { storage } = openTemp();
    const cast = makeCast(storage);
    const p = storage.presets.create(cast.owner, { name: 'keep', recipe: 'smile', modelId: 'm1', scope: 'public', description: 'mine' });
    expect(outcome(() => storage.presets.update(cast.member, p.id, { recipe: 'frown', description: 'hacked' }))).toBe('FORBIDDEN');
    expect(outcome(() => storage.presets.remove(cast.admin, p.id))).toBe('FORBIDDEN');
    expect(storage.presets.get(cast.owner, p.id)).toEqual(p);
  });

  it('listings and search never show someone else\'s private preset or another server\'s preset', () => {
    const { storage } = openTemp();
    const cast = makeCast(storage);
    storage.presets.create(cast.owner, { name: 'secret-smile', recipe: 'smile', modelId: 'm1', scope: 'private' });
    storage.presets.create(cast.owner, { name: 'guild-smile', recipe: 'smile', modelId: 'm1', scope: 'server' });
    storage.presets.create(cast.owner, { name: 'world-smile', recipe: 'smile', modelId: 'm1', scope: 'public' });
    const names = (actor: Actor) => ({
      search: storage.presets.search(actor, 'smile').map((p) => p.name).sort(),
      top: storage.presets.list(actor, 'top').map((p) => p.name).sort(),
      new: storage.presets.list(actor, 'new').map((p) => p.name).sort(),
    });
    expect(names(cast.member)).toEqual({ search: ['guild-smile', 'world-smile'], top: ['guild-smile', 'world-smile'], new: ['guild-smile', 'world-smile'] });
    expect(names(cast.otherServer)).toEqual({ search: ['world-smile'], top: ['world-smile'], new: ['world-smile'] });
    expect(names(cast.otherPlatform)).toEqual({ search: ['world-smile'], top: ['world-smile'], new: ['world-smile'] });
    expect(names(cast.owner).search).toEqual(['guild-smile', 'secret-smile', 'world-smile']);
  });
});
