/**
 * End to end against the fake Discord and a real engine: buttons (stronger, undo, delete), the
 * context-menu picker, reactions with deduplication, presets across users, rate limits, the
 * expired-token fallback and a 429 from Discord.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { startTestEngine } from '../helpers/engine.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import type { GatedEngine } from './support/gated-engine.js';
import { gatedEngine } from './support/gated-engine.js';
import type { Harness } from './support/discord-harness.js';
import { answerOf, awaitResult, customIds, samplePng, settled, startHarness } from './support/discord-harness.js';

let guard: NetworkGuard;
let engine: EngineServer;
let gated: GatedEngine;
let h: Harness;

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  gated = gatedEngine(started.client);
  h = await startHarness(gated);
});

afterAll(async () => {
  await h?.stop();
  await engine?.close();
  guard?.restore();
});

const image = () => ({ image: { bytes: samplePng(), filename: 'face.png' } });
const ephemeralReply = async (h: Harness, token: string) => {
  const answer = await answerOf(h, token);
  expect(answer.ephemeral).toBe(true);
  return answer.text;
};

describe('result buttons', () => {
  it('stronger makes a child edit with a scaled recipe; undo goes back to the parent; delete is owner-only', async () => {
    const { fake } = h;
    const first = await awaitResult(h, fake.slash(fake.users.alice, ['edit'], { recipe: 'global:0.5' }, image()));
    expect(first.status).toMatch(/^✅ Done:/);
    const parent = first.edit!;

    const press = fake.button(fake.users.alice, first.message!, `asyrp:r:stronger:${parent.id}`);
    const child = await awaitResult(h, press);
    expect(child.edit!.parentId).toBe(parent.id);
    expect(child.edit!.recipe).toBe('global:0.75');
    expect(child.message!.channel_id).toBe(first.message!.channel_id); // same thread
    expect(child.message!.attachments[0]!.filename).toBe('asyrp-edit.png');

    const undo = await awaitResult(h, fake.button(fake.users.alice, child.message!, `asyrp:r:undo:${child.edit!.id}`));
    expect(undo.message!.content).toContain('Back to');
    expect(customIds(undo.message!)).toContain(`asyrp:r:stronger:${parent.id}`);

    const notMine = fake.button(fake.users.bob, child.message!, `asyrp:r:delete:${child.edit!.id}`);
    expect(await ephemeralReply(h, notMine.token)).toContain('Only the person who made this edit');
    expect(child.message!.deleted).toBeFalsy();
    const mine = fake.button(fake.users.alice, child.message!, `asyrp:r:delete:${child.edit!.id}`);
    await ephemeralReply(h, mine.token);
    expect(child.message!.deleted).toBe(true);
  });
});

describe('context menu', () => {
  it('offers a private picker and edits the target image into a thread on it', async () => {
    const { fake } = h;
    const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const menu = fake.messageCommand(fake.users.alice, 'Edit with Asyrp', posted);
    await fake.waitFor(() => fake.book.get(menu.token)?.callbackType === 4, 'the picker');
    const picker = fake.original(menu)!;
    expect(fake.book.get(menu.token)!.ephemeral).toBe(true);
    const selectId = customIds(picker)[0]!;

    const select = fake.select(fake.users.alice, picker, selectId, ['shift']);
    await fake.waitFor(() => fake.book.get(select.token)?.callbackType === 7, 'the strength buttons');
    const strengthId = customIds(picker).find((c) => c.endsWith(':1'))!;

    const press = fake.button(fake.users.alice, picker, strengthId);
    const result = await awaitResult(h, press);
    expect(result.status).toMatch(/^✅ Done:/);
    expect(result.message!.channel_id).toBe(posted.id); // the thread hangs on the target message
    expect(result.edit!.recipe).toMatch(/^shift/);
  });
});

describe('reactions', () => {
  it('runs the mapped recipe once per (message, emoji, user), however often it is delivered', async () => {
    const { fake } = h;
    const admin = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '🌀', recipe: 'shift:0.5' }, { admin: true });
    expect(await ephemeralReply(h, admin.token)).toContain('shift:0.5');

    const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const before = gated.submitted.length;
    fake.react(fake.users.alice, posted, '🌀');
    fake.react(fake.users.alice, posted, '🌀');
    fake.react(fake.users.alice, posted, '👍'); // not a mapped emoji: ignored
    const result = await fake.waitFor(() => fake.messagesIn(posted.id).find((m) => m.attachments.length > 0), 'the reaction result');
    expect(result.content).toContain('shift:0.5');
    await settled(h);
    expect(gated.submitted.length - before).toBe(1);
    expect(fake.messagesIn(posted.id).filter((m) => m.attachments.length > 0)).toHaveLength(1);
  });

  it('does nothing when an admin has turned reactions off', async () => {
    const { fake } = h;
    const map = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '🌀', recipe: 'shift:0.5' }, { admin: true });
    await ephemeralReply(h, map.token);
    const off = fake.slash(fake.users.admin, ['admin', 'reactions'], { enabled: false }, { admin: true });
    expect(await ephemeralReply(h, off.token)).toBe('Emoji reactions are off.');
    const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const before = gated.submitted.length;
    fake.react(fake.users.bob, posted, '🌀');
    await settled(h);
    expect(gated.submitted.length).toBe(before);
    expect(fake.state.channels.has(posted.id)).toBe(false);
    const on = fake.slash(fake.users.admin, ['admin', 'reactions'], { enabled: true }, { admin: true });
    expect(await ephemeralReply(h, on.token)).toBe('Emoji reactions are on.');
  });
});

describe('reaction refusals', () => {
  const broken = () => new Uint8Array([...samplePng().subarray(0, 40), ...new Uint8Array(200).fill(7)]);
  /** Bot messages in the server's channels and threads (DMs and ephemeral answers excluded). */
  const publicBotMessages = () => [...h.fake.state.messages.values()].filter((m) => m.author.id === h.fake.state.botUser.id && !m.deleted && !(m.flags & 64) && !m.channel_id.startsWith('dm-'));

  it('tell the person who reacted by DM and leave nothing in the channel: a channel without edits, a missing preset, an image the engine refuses', async () => {
    const { fake } = h;
    const map = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '🧪', recipe: 'shift:0.4' }, { admin: true });
    await ephemeralReply(h, map.token);
    const other = fake.state.addChannel('edits-only');
    const set = fake.slash(fake.users.admin, ['admin', 'channels'], { channels: `<#${other.id}>` }, { admin: true });
    await ephemeralReply(h, set.token);
    const publicBefore = publicBotMessages().length;
    const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const before = gated.submitted.length;
    fake.react(fake.users.alice, posted, '🧪');
    const dm = await fake.waitFor(() => fake.dmsTo(fake.users.alice)[0], 'the DM');
    expect(dm.content).toContain('not enabled in this channel');
    expect(dm.content).toContain(posted.id); // names the message it is about (a link)
    await settled(h);
    expect(gated.submitted.length).toBe(before); // refused before anything reached the engine
    const reset = fake.slash(fake.users.admin, ['admin', 'channels'], { channels: 'all' }, { admin: true });
    await ephemeralReply(h, reset.token);

    // An emoji mapped to a preset that does not exist (or is not shared with this person).
    const gone = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '🪄', recipe: '@nobody/gone:0.5' }, { admin: true });
    await ephemeralReply(h, gone.token);
    fake.react(fake.users.alice, posted, '🪄');
    const presetDm = await fake.waitFor(() => fake.dmsTo(fake.users.alice)[1], 'the DM about the preset');
    expect(presetDm.content).toContain('🪄');
    expect(presetDm.content).toMatch(/gone|not found|no preset/i);

    // The engine refuses the image after the thread and the status line exist: both go, the DM stays.
    const damaged = fake.postImage(fake.users.bob, { bytes: broken() });
    fake.react(fake.users.alice, damaged, '🧪');
    const damagedDm = await fake.waitFor(() => fake.dmsTo(fake.users.alice)[2], 'the DM about the damaged image');
    expect(damagedDm.content).toContain('damaged');
    await settled(h);
    expect(fake.state.channels.has(damaged.id)).toBe(false); // no empty thread left behind
    expect(publicBotMessages().length).toBe(publicBefore);
    expect(fake.state.channels.has(posted.id)).toBe(false);
  });

  it('take the reaction back when the person accepts no DMs, and say nothing in the channel', async () => {
    const { fake } = h;
    const map = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '🧪', recipe: 'shift:0.4' }, { admin: true });
    await ephemeralReply(h, map.token);
    fake.closedDms.add(fake.users.bob.id);
    try {
      const publicBefore = publicBotMessages().length;
      const damaged = fake.postImage(fake.users.alice, { bytes: broken() });
      fake.react(fake.users.bob, damaged, '🧪');
      const removal = await fake.waitFor(
        () => fake.calls.find((c) => c.method === 'DELETE' && c.path.startsWith(`/api/v10/channels/${damaged.channel_id}/messages/${damaged.id}/reactions/`) && c.path.endsWith(`/${fake.users.bob.id}`)),
        'the reaction removed',
      );
      expect(decodeURIComponent(removal.path)).toContain('🧪');
      await settled(h);
      expect(fake.dmsTo(fake.users.bob)).toEqual([]);
      expect(publicBotMessages().length).toBe(publicBefore);
      expect(fake.state.channels.has(damaged.id)).toBe(false);
      expect(h.logs.some((l) => l.includes('could not be told by DM'))).toBe(true);
    } finally {
      fake.closedDms.delete(fake.users.bob.id);
    }
  });
});

describe('presets', () => {
  it('a server preset saved by one person is used by another; a private one stays invisible', async () => {
    const { fake } = h;
    const save = fake.slash(fake.users.alice, ['preset', 'save'], { name: 'swirl', recipe: 'shift:0.6 global:0.2', scope: 'server' });
    expect(await ephemeralReply(h, save.token)).toContain('Saved **swirl**');
    const secret = fake.slash(fake.users.alice, ['preset', 'save'], { name: 'secret', recipe: 'global:0.3' });
    expect(await ephemeralReply(h, secret.token)).toContain('private');

    const used = await awaitResult(h, fake.slash(fake.users.bob, ['edit'], { recipe: 'swirl' }, image()));
    expect(used.status).toMatch(/^✅ Done:/);
    expect(used.edit!.recipe).toBe('shift:0.6 global:0.2');
    expect(used.edit!.presetId).not.toBeNull();

    const hidden = fake.slash(fake.users.bob, ['edit'], { recipe: 'secret' }, image());
    expect(await ephemeralReply(h, hidden.token)).toContain('Unknown direction or preset "secret"');
    const byRef = fake.slash(fake.users.bob, ['preset', 'info'], { name: '@alice/secret' });
    expect(await ephemeralReply(h, byRef.token)).toContain('No preset');
  });
});

describe('limits and platform failures', () => {
  it('refuses an edit over the per-user limit with a private, friendly reply', async () => {
    const { fake } = h;
    const setLimits = fake.slash(fake.users.admin, ['admin', 'limits'], { per_user: { type: 4, value: 1 } }, { admin: true });
    expect(await ephemeralReply(h, setLimits.token)).toContain('1 per hour');
    const notAdmin = fake.slash(fake.users.bob, ['admin', 'limits'], { per_user: { type: 4, value: 0 } });
    expect(await ephemeralReply(h, notAdmin.token)).toContain('Manage Server');

    const carol = { id: '200000000000000077', username: 'carol' };
    expect((await awaitResult(h, fake.slash(carol, ['global'], {}, image()))).status).toMatch(/^✅/);
    const second = fake.slash(carol, ['global'], {}, image());
    expect(await ephemeralReply(h, second.token)).toMatch(/used your edits for this hour\. Try again in \d+ min/);

    const reset = fake.slash(fake.users.admin, ['admin', 'limits'], {}, { admin: true });
    expect(await ephemeralReply(h, reset.token)).toContain('no limit');
  });

  it('posts a normal message in the thread when the interaction token has expired', async () => {
    const { fake } = h;
    gated.close();
    const i = fake.slash(fake.users.alice, ['global'], {}, image());
    await fake.waitFor(() => fake.book.get(i.token)?.callbackType === 5, 'the deferral');
    await fake.waitFor(() => gated.submitted.includes(`discord:i:${i.id}`), 'the job');
    fake.book.expire(i.token); // 15 minutes "pass" while the job waits
    gated.open();
    const thread = await fake.waitFor(() => fake.state.channels.get(fake.original(i)!.id), 'the thread');
    const note = await fake.waitFor(() => fake.messagesIn(thread.id).find((m) => m.content.includes('✅ Done:')), 'the fallback message');
    expect(note.content).toContain(`<@${fake.users.alice.id}>`);
    expect(note.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(fake.messagesIn(thread.id).some((m) => m.attachments.length > 0)).toBe(true);
    expect(fake.calls.some((c) => c.status === 401 && c.path.includes(`/webhooks/`))).toBe(true);
  });

  it('waits out a 429 from Discord and still posts the result', async () => {
    const { fake } = h;
    fake.rateLimits.push({ match: (method, path) => method === 'POST' && /\/channels\/\d+\/messages$/.test(path), retryAfter: 0.2 });
    const result = await awaitResult(h, fake.slash(fake.users.alice, ['global'], {}, image()));
    expect(result.status).toMatch(/^✅ Done:/);
    expect(fake.calls.filter((c) => c.status === 429)).toHaveLength(1);
    expect(h.logs.some((l) => l.startsWith('warn discord rate limit'))).toBe(true);
    expect(guard.violations).toEqual([]);
  });
});
