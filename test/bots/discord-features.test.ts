/**
 * End to end against the fake Discord and a real engine: buttons after a restart, the strength sweep,
 * save-as-preset through a modal, history, help, autocomplete, the channel allow-list, and the preset
 * commands (list, star, fork, share, delete).
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { startTestEngine } from '../helpers/engine.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import type { Harness } from './support/discord-harness.js';
import type { EngineClient } from '../../src/engine/client/engine-client.js';
import { gatedEngine } from './support/gated-engine.js';
import { snowflake } from '../fake-discord/snowflake.js';
import type { FakeUser } from '../fake-discord/fake-state.js';
import { answerOf, awaitResult, samplePng, settled, startHarness } from './support/discord-harness.js';

let guard: NetworkGuard;
let engine: EngineServer;
let h: Harness;
let engineClient: EngineClient;

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  engineClient = started.client;
  h = await startHarness(started.client);
});

afterAll(async () => {
  await h?.stop();
  await engine?.close();
  expect(guard.violations).toEqual([]);
  guard?.restore();
});

const image = () => ({ image: { bytes: samplePng() } });
const reply = (token: string, type = 4) =>
  h.fake.waitFor(() => {
    const i = h.fake.book.get(token);
    return i?.callbackType === type ? i.callbackData! : undefined;
  }, `callback type ${type}`);
const replyText = async (token: string) => (await answerOf(h, token)).text;

describe('result buttons', () => {
  it('keep working after the bot restarts (state in the database)', async () => {
    const { fake } = h;
    const first = await awaitResult(h, fake.slash(fake.users.alice, ['global'], { strength: 0.6 }, image()));
    await h.restart();
    const child = await awaitResult(h, fake.button(fake.users.alice, first.message!, `asyrp:r:weaker:${first.edit!.id}`));
    expect(child.status).toMatch(/^✅ Done:/);
    expect(child.edit).toMatchObject({ parentId: first.edit!.id, recipe: 'global:0.4' });
  });

  it('sweep posts a grid of strengths', async () => {
    const { fake } = h;
    const first = await awaitResult(h, fake.slash(fake.users.alice, ['shift'], {}, image()));
    const sweep = await awaitResult(h, fake.button(fake.users.bob, first.message!, `asyrp:r:sweep:${first.edit!.id}`));
    expect(sweep.status).toMatch(/^✅ Done:/);
    expect(sweep.message!.attachments.map((a) => a.filename)).toEqual(['asyrp-sweep.png', expect.stringMatching(/^asyrp-sweep-original-\d+x16\.png$/)]);
    expect(sweep.message!.content).toContain('Strength sweep');
  });

  it('save as preset opens a modal and stores the edit recipe', async () => {
    const { fake } = h;
    const first = await awaitResult(h, fake.slash(fake.users.alice, ['edit'], { recipe: 'global:0.7 shift:0.2' }, image()));
    const press = fake.button(fake.users.alice, first.message!, `asyrp:r:save:${first.edit!.id}`);
    const modal = await reply(press.token, 9);
    expect(modal.custom_id).toBe(`asyrp:save:${first.edit!.id}`);
    const submit = fake.modalSubmit(fake.users.alice, String(modal.custom_id), { name: 'keeper', scope: 'server' });
    expect(await replyText(submit.token)).toContain('Saved **keeper** (server)');
    const info = fake.slash(fake.users.bob, ['preset', 'info'], { name: 'keeper' });
    expect(await replyText(info.token)).toContain('global:0.7 shift:0.2');
  });
});

describe('history, help and autocomplete', () => {
  it('history lists the last edits with links; help lists the directions', async () => {
    const { fake } = h;
    const edit = await awaitResult(h, fake.slash(fake.users.bob, ['global'], { strength: 0.25 }, image()));
    const history = await replyText(fake.slash(fake.users.bob, ['history']).token);
    expect(history.split('\n')[0]).toContain('`global:0.25`');
    expect(history).toContain(`/${edit.message!.channel_id}/${edit.message!.id}`);
    const help = await replyText(fake.slash(fake.users.bob, ['help']).token);
    expect(help).toContain('`global`');
    expect(help).toContain('`shift`');
    // Each installed model with what it edits, the one in use first.
    expect(help).toContain('Model **Analytic test model (per-pixel Gaussian data, exact epsilon)** (used here): edits per-pixel Gaussian test images, 16 px.');
    expect(help).toContain('docs/models.md');
  });

  it('a photo given to a toy model is edited, and the reply says in one line that it is outside the model\'s domain', async () => {
    const { fake } = h;
    const photo = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#6a8caf' } }).png().toBuffer();
    const done = await awaitResult(h, fake.slash(fake.users.bob, ['global'], { strength: 0.5 }, { image: { bytes: new Uint8Array(photo) } }));
    expect(done.status).toMatch(/^✅ Done/);
    const lines = done.message!.content.split('\n');
    expect(lines.filter((l) => l.includes('docs/models.md'))).toEqual(['⚠️ Note: this model only edits per-pixel Gaussian test images, 16 px; this looks like a photo, far more detail than 16 px can keep, so expect a rough result. Real models: docs/models.md.']);
    // A small image inside the domain gets no such line.
    const small = await awaitResult(h, fake.slash(fake.users.bob, ['global'], { strength: 0.5 }, image()));
    expect(small.message!.content).not.toContain('docs/models.md');
  });

  it('/asyrp link issues a code Slack can redeem, and redeems a code issued on Slack', async () => {
    const { fake } = h;
    // Users of their own, so that merging accounts does not change the handles other tests expect.
    const carol = { id: snowflake(), username: 'carol' } as FakeUser;
    const dave = { id: snowflake(), username: 'dave' } as FakeUser;
    const issued = await replyText(fake.slash(carol, ['link']).token);
    const code = /`([^`]+)`/.exec(issued)![1]!;
    const slackUser = h.storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U-carol', displayName: 'carol on slack' });
    const merged = h.storage.accounts.redeemLinkCode(code, { accountId: slackUser.accountId, platform: 'slack' });
    expect(merged.identities.map((x) => x.platform).sort()).toEqual(['discord', 'slack']);

    const slackDave = h.storage.accounts.ensureIdentity({ platform: 'slack', serverId: 'T1', userId: 'U-dave', displayName: 'dave on slack' });
    const fromSlack = h.storage.accounts.issueLinkCode({ accountId: slackDave.accountId, platform: 'slack' });
    const redeemed = await replyText(fake.slash(dave, ['link'], { code: fromSlack.code }).token);
    expect(redeemed).toMatch(/Linked: you are \*\*@.+\*\* on (discord and slack|slack and discord)/);
    const reused = await replyText(fake.slash(dave, ['link'], { code: fromSlack.code }).token);
    expect(reused).toMatch(/already linked|wrong or has expired/);
  });

  it('completes the last word of a recipe with directions and presets', async () => {
    const { fake } = h;
    const ac = fake.slash(fake.users.bob, ['edit'], { recipe: 'shift:0.5 glo' }, { focused: 'recipe' });
    const choices = (await reply(ac.token, 8)).choices as { name: string; value: string }[];
    expect(choices[0]!.value).toMatch(/^shift:0\.5 global:/);
    const presets = fake.slash(fake.users.bob, ['preset', 'info'], { name: 'kee' }, { focused: 'name' });
    const found = (await reply(presets.token, 8)).choices as { value: string }[];
    expect(found.map((c) => c.value)).toContain('@alice/keeper');
  });
});

describe('mistakes', () => {
  it('a bad recipe gets a private answer pointing at the word, before anything is queued', async () => {
    const { fake } = h;
    const before = h.storage.history.listForAccount(1, { limit: 100 }).length;
    const bad = fake.slash(fake.users.alice, ['edit'], { recipe: 'global:0.5 glbal' }, image());
    const text = await replyText(bad.token);
    expect(fake.book.get(bad.token)!.ephemeral).toBe(true);
    expect(text).toContain('Unknown direction or preset "glbal". Did you mean "global"?');
    expect(text).toContain('```\nglobal:0.5 glbal\n           ^^^^^\n```');
    expect(h.storage.history.listForAccount(1, { limit: 100 })).toHaveLength(before);
  });

  it('an unknown option is named as such, with the closest valid one, privately and with the caret under it', async () => {
    const { fake } = h;
    const bad = fake.slash(fake.users.alice, ['edit'], { recipe: 'global 0.8 stepz:20' }, image());
    const text = await replyText(bad.token);
    expect(fake.book.get(bad.token)!.ephemeral).toBe(true);
    expect(text).toContain('Unknown option "stepz"; did you mean steps?');
    expect(text).toContain('```\nglobal 0.8 stepz:20\n           ^^^^^^^^\n```');
    expect(text).not.toContain('out of range');
  });

  it('an image the engine refuses leaves no trace: no empty thread, no public status; the person alone is told', async () => {
    const { fake } = h;
    // Starts like a PNG (so the bot downloads it), but the engine cannot decode it: IMAGE_CORRUPT at submit.
    const broken = new Uint8Array([...samplePng().subarray(0, 40), ...new Uint8Array(200).fill(7)]);
    const i = fake.slash(fake.users.alice, ['global'], { strength: 0.5 }, { image: { bytes: broken } });
    const told = await fake.waitFor(() => [...fake.state.messages.values()].find((m) => m.interactionToken === i.token && (m.flags ?? 0) & 64), 'the private answer');
    expect(told.content).toContain('damaged');
    await settled(h);
    const reply = fake.original(i)!;
    expect(reply.deleted).toBe(true); // the public "Queued" line is gone
    expect(fake.state.channels.has(reply.id)).toBe(false); // and so is the thread made for the result
    expect(fake.calls.some((c) => c.method === 'DELETE' && c.path === `/api/v10/channels/${reply.id}`)).toBe(true);
  });

  it('an image over the pixel limit is refused from its metadata, before downloading', async () => {
    const { fake } = h;
    const downloads = () => fake.calls.filter((c) => c.path.startsWith('/cdn/')).length;
    const before = downloads();
    expect(before).toBeGreaterThan(0); // earlier edits did download their images
    const huge = fake.slash(fake.users.alice, ['global'], {}, { image: { bytes: samplePng(), width: 10_000, height: 10_000 } });
    expect(await replyText(huge.token)).toContain('10000×10000');
    expect(fake.book.get(huge.token)!.ephemeral).toBe(true);
    expect(downloads()).toBe(before);
  });
});

describe('direct messages', () => {
  it('a command or the context menu used in a DM gets a clear private answer, never silence', async () => {
    const { fake } = h;
    const edit = fake.slash(fake.users.bob, ['global'], { strength: 0.5 }, { ...image(), dm: true });
    const help = fake.slash(fake.users.bob, ['help'], {}, { dm: true });
    const source = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const menu = fake.messageCommand(fake.users.bob, 'Edit with Asyrp', source, { dm: true });
    for (const i of [edit, help, menu]) {
      const answer = await answerOf(h, i.token);
      expect(answer.ephemeral).toBe(true);
      expect(answer.text).toContain('Asyrp works in servers, not in direct messages');
    }
    await settled(h);
    expect(fake.messagesIn(fake.dmChannel(fake.users.bob))).toEqual([]);
  });

  it('a command the bot no longer knows gets an answer too', async () => {
    const { fake } = h;
    const source = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const old = fake.messageCommand(fake.users.bob, 'Old Menu Name', source);
    expect((await answerOf(h, old.token)).text).toContain('I do not know that command');
  });
});

describe('admin and preset commands', () => {
  it('the channel allow-list refuses edits elsewhere, privately', async () => {
    const { fake } = h;
    const other = fake.state.addChannel('bots');
    const set = fake.slash(fake.users.admin, ['admin', 'channels'], { channels: `<#${other.id}>` }, { admin: true });
    expect(await replyText(set.token)).toContain(other.id);
    const refused = fake.slash(fake.users.alice, ['global'], {}, image());
    expect(await replyText(refused.token)).toContain('not enabled in this channel');
    expect(fake.book.get(refused.token)!.ephemeral).toBe(true);
    const reset = fake.slash(fake.users.admin, ['admin', 'channels'], { channels: 'all' }, { admin: true });
    expect(await replyText(reset.token)).toContain('every channel');
  });

  it('list, star, fork, share and delete', async () => {
    const { fake } = h;
    const { alice, bob } = fake.users;
    await replyText(fake.slash(alice, ['preset', 'save'], { name: 'glow', recipe: 'global:0.9', scope: 'public' }).token);
    expect(await replyText(fake.slash(bob, ['preset', 'star'], { name: 'glow' }).token)).toContain('Starred');
    expect(await replyText(fake.slash(bob, ['preset', 'list'], { which: 'top' }).token)).toMatch(/\*\*glow\*\* by @alice \(public\) `global:0.9` ⭐1/);
    expect(await replyText(fake.slash(bob, ['preset', 'fork'], { name: '@alice/glow', new_name: 'myglow' }).token)).toContain('myglow');
    expect(await replyText(fake.slash(bob, ['preset', 'delete'], { name: '@alice/glow' }).token)).toContain('Only alice');
    expect(await replyText(fake.slash(bob, ['preset', 'share'], { name: 'myglow', scope: 'server' }).token)).toContain('now server');
    expect(await replyText(fake.slash(bob, ['preset', 'list']).token)).toContain('myglow');
    expect(await replyText(fake.slash(alice, ['preset', 'delete'], { name: 'glow' }).token)).toContain('Deleted');
  });
});

describe('restart in the middle of an edit', () => {
  it('the next bot process finishes the accepted edit and posts it in its thread, once', async () => {
    const { fake } = h;
    const dead = gatedEngine(h.bot.context.edits.deps.engine);
    await h.restart(dead);
    dead.close(); // this process "dies" before its job finishes: its wait never returns
    const i = fake.slash(fake.users.alice, ['global'], { strength: 0.9 }, image());
    await fake.waitFor(() => dead.submitted.length === 1, 'the accepted job');
    const thread = await fake.waitFor(() => fake.state.channels.get(fake.original(i)?.id ?? ''), 'the thread');
    await fake.waitFor(() => h.bot.context.edits.pending.list().length === 1, 'the pending record');

    await h.restart(engineClient);
    const result = await fake.waitFor(() => fake.messagesIn(thread.id).find((m) => m.attachments.length > 0), 'the resumed result');
    expect(result.content).toContain('finished after the bot restarted');
    expect(result.content).toContain(`<@${fake.users.alice.id}>`);
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('discord', result.id), 'the edit to point at its message');
    expect(edit).toMatchObject({ status: 'done', recipe: 'global:0.9' });
    await fake.waitFor(() => h.bot.context.edits.pending.list().length === 0, 'the pending record to clear');
    expect(fake.messagesIn(thread.id).filter((m) => m.attachments.length > 0)).toHaveLength(1);
  });
});
