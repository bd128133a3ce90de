/** Rate limits, recipe + preset resolution, follow-up scaling and the default emoji map. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actorFor } from '../../src/bots/core/actors.js';
import { defaultEmojiMap, emojiRecipe } from '../../src/bots/core/default-emoji.js';
import { RateLimiter } from '../../src/bots/core/rate-limiter.js';
import { resolveRecipe, scaleRecipe } from '../../src/bots/core/resolve-recipe.js';
import { UserFacingError } from '../../src/bots/core/user-facing-error.js';
import { openStorage } from '../../src/storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'asyrp-core-'));
const storage = openStorage({ path: join(dir, 'db.sqlite') });
afterAll(() => {
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

const who = (userId: string, serverId = 'g1') => ({ platform: 'discord' as const, serverId, channelId: 'c1', userId, displayName: userId, isServerAdmin: false });
const directions = ['smile', 'age', 'glasses'];

describe('RateLimiter', () => {
  const noLimits = { userEditsPerHour: null, serverEditsPerHour: null };

  it('applies the per-user hourly limit and says when to come back', () => {
    let now = 0;
    const l = new RateLimiter({ now: () => now, burst: 100 });
    l.take(who('a'), { ...noLimits, userEditsPerHour: 2 });
    l.take(who('a'), { ...noLimits, userEditsPerHour: 2 });
    now = 10 * 60_000;
    expect(() => l.take(who('a'), { ...noLimits, userEditsPerHour: 2 })).toThrow(/this hour\. Try again in 50 min/);
    l.take(who('b'), { ...noLimits, userEditsPerHour: 2 }); // someone else is fine
    now = 60 * 60_000 + 1;
    expect(() => l.take(who('a'), { ...noLimits, userEditsPerHour: 2 })).not.toThrow();
  });

  it('applies the server limit across people, and the burst limit everywhere', () => {
    const l = new RateLimiter({ now: () => 0, burst: 3 });
    l.take(who('a'), { ...noLimits, serverEditsPerHour: 2 });
    l.take(who('b'), { ...noLimits, serverEditsPerHour: 2 });
    expect(() => l.take(who('c'), { ...noLimits, serverEditsPerHour: 2 })).toThrow(/This server has used its edits/);
    l.take(who('z', 'g2'), noLimits);
    l.take(who('z', 'g3'), noLimits);
    l.take(who('z', 'g4'), noLimits);
    const e = (() => {
      try {
        l.take(who('z', 'g5'), noLimits);
      } catch (err) {
        return err as UserFacingError;
      }
    })();
    expect(e).toBeInstanceOf(UserFacingError);
    expect(e!.kind).toBe('limit');
  });

  it('does not count a refused edit', () => {
    const l = new RateLimiter({ now: () => 0, burst: 100 });
    expect(() => l.take(who('a'), { ...noLimits, userEditsPerHour: 0 })).toThrow();
    l.take(who('a'), { ...noLimits, userEditsPerHour: 1 });
  });
});

describe('resolveRecipe', () => {
  const alice = actorFor(storage, who('alice'));
  const bob = actorFor(storage, who('bob'));
  storage.presets.create(alice, { name: 'happy', recipe: 'smile:0.8 age:-0.2 steps:20', modelId: 'm', scope: 'server' });
  storage.presets.create(alice, { name: 'mine', recipe: 'glasses', modelId: 'm' });

  it('expands presets, scaled by the strength given to them, and merges with directions', () => {
    const r = resolveRecipe('happy:0.5 glasses', { directions, actor: bob, presets: storage.presets });
    expect(r.engineText).toBe('smile:0.4 age:-0.1 glasses steps:20');
    expect(r.displayText).toBe('happy:0.5 glasses');
    expect(r.preset?.name).toBe('happy');
    const byRef = resolveRecipe('@alice/happy smile:0.2', { directions, actor: bob, presets: storage.presets });
    expect(byRef.engineText).toBe('smile age:-0.2 steps:20');
  });

  it('does not let others use a private preset, and points at unknown directions', () => {
    expect(() => resolveRecipe('mine', { directions, actor: bob, presets: storage.presets })).toThrow(/Unknown direction or preset "mine"/);
    expect(resolveRecipe('mine', { directions, actor: alice, presets: storage.presets }).engineText).toBe('glasses');
    expect(() => resolveRecipe('@bob/happy', { directions, actor: bob, presets: storage.presets })).toThrow(/No preset/);
    expect(() => resolveRecipe('steps:10', { directions, actor: bob, presets: storage.presets })).toThrow(/at least one direction/);
  });

  it('scales every strength for weaker / stronger and keeps them within ±3', () => {
    expect(scaleRecipe('smile:0.8 age:-0.4 seed:3', 1.5)).toBe('smile:1.2 age:-0.6 seed:3');
    expect(scaleRecipe('smile:2.5', 1.5)).toBe('smile:3');
    expect(scaleRecipe('smile', 2 / 3)).toBe('smile:0.666667');
  });
});

describe('emoji', () => {
  it('offers defaults only for directions the model has; an admin mapping wins', () => {
    expect([...defaultEmojiMap(['smile', 'eyes_closed', 'hair'])]).toEqual([
      ['😄', 'smile'],
      ['😴', 'eyes_closed'],
    ]);
    expect(emojiRecipe('😄', undefined, ['smile'])).toBe('smile');
    expect(emojiRecipe('😄', { recipe: 'smile:0.3 age', presetId: null }, ['smile'])).toBe('smile:0.3 age');
    expect(emojiRecipe('🤓', undefined, ['smile'])).toBeUndefined();
    expect(emojiRecipe('⭐', { recipe: null, presetId: 7 }, [], (id) => `@x/p${id}`)).toBe('@x/p7');
  });
});
