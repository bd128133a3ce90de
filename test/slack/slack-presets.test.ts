/**
 * Presets, history, help, links and limits through the same core and database as Discord: a public
 * preset saved with the real Discord bot (against the fake Discord) is used from Slack; Slack's own
 * preset commands; `/asyrp link` joins a Slack and a Discord identity; admin limits and the channel
 * allow-list refuse privately.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { startTestEngine } from '../helpers/engine.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import type { Harness } from '../bots/support/discord-harness.js';
import { answerOf, awaitResult, startHarness } from '../bots/support/discord-harness.js';
import type { SlackHarness } from './support/slack-harness.js';
import { CHANNEL, resultIn, samplePng, startSlackHarness } from './support/slack-harness.js';

let guard: NetworkGuard;
let engine: EngineServer;
let discord: Harness;
let h: SlackHarness;

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  discord = await startHarness(started.client);
  h = await startSlackHarness(started.client, { storage: discord.storage });
});

afterAll(async () => {
  await h?.stop();
  await discord?.stop();
  await engine?.close();
  guard?.restore();
});

const say = async (user: { id: string; name: string }, text: string, channel = CHANNEL) => {
  const { text: answer, body } = await h.fake.ask(user, channel, text);
  return { text: answer, response_type: String(body.response_type) };
};
/** An edit that is acked ("working on it") and then refused: the refusal that replaces the ack line. */
const refused = async (user: { id: string; name: string }, text: string, channel = CHANNEL) => {
  const asked = await h.fake.ask(user, channel, text);
  expect(asked.text).toContain('Working on');
  return h.fake.responseTo(asked.responseId, 'the refusal');
};
const discordReply = async (token: string) => (await answerOf(discord, token)).text;
let discordHandle = '';

describe('a preset made on Discord', () => {
  it('is used from Slack by @owner/name, with a strength', async () => {
    const saved = discord.fake.slash(discord.fake.users.alice, ['preset', 'save'], { name: 'warm', recipe: 'global:0.9', scope: 'public' });
    expect(await discordReply(saved.token)).toContain('Saved');
    discordHandle = discord.storage.presets.list({ accountId: 0, platform: 'slack', serverId: h.fake.teamId, isServerAdmin: false }, 'new', { limit: 5 })[0]!.ownerHandle;

    const { fake } = h;
    const image = fake.postImage(fake.users.bob, CHANNEL, samplePng());
    const ack = await say(fake.users.bob, `@${discordHandle}/warm 0.5`);
    expect(ack.text).toContain(`@${discordHandle}/warm:0.5`);
    const result = await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the preset result');
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit');
    expect(edit.recipe).toBe('global:0.45');
    expect(edit.presetId).not.toBeNull();
    expect(JSON.stringify(result.blocks)).toContain(`@${discordHandle}/warm:0.5`);
  });
});

describe('a preset made on Slack', () => {
  it('is used from Discord by @owner/name', async () => {
    const saved = (await say(h.fake.users.bob, 'preset save dim global:-0.4 scope:public')).text;
    const handle = /by @([a-z0-9_.-]+)/.exec(saved)![1];
    const i = discord.fake.slash(discord.fake.users.bob, ['edit'], { recipe: `@${handle}/dim` }, { image: { bytes: samplePng() } });
    const result = await awaitResult(discord, i);
    expect(result.status).toMatch(/^✅/);
    expect(result.edit).toMatchObject({ platform: 'discord', recipe: 'global:-0.4' });
  });
});

describe('preset commands, history and help', () => {
  it('save, list, info, star, fork, share and delete', async () => {
    const { alice, bob } = h.fake.users;
    const saved = (await say(alice, 'preset save bright global:0.7 scope:private')).text;
    expect(saved).toContain('Saved *bright*');
    // Handles are unique across platforms: Slack's alice may not be plain "alice".
    const ref = `@${/by @([a-z0-9_.-]+)/.exec(saved)![1]}/bright`;
    expect((await say(alice, 'preset list')).text).toContain('bright');
    expect((await say(bob, `preset info ${ref}`)).text).toMatch(/^❌/); // private: not found for bob
    expect((await say(alice, 'preset share bright public')).text).toContain('is now public');
    expect((await say(bob, `preset info ${ref}`)).text).toContain('global:0.7');
    expect((await say(bob, `preset star ${ref}`)).text).toContain('Starred');
    expect((await say(bob, `preset fork ${ref} mine`)).text).toContain('Copied');
    expect((await say(bob, `preset delete ${ref}`)).text).toMatch(/^❌/);
    expect((await say(alice, 'preset delete bright')).text).toContain('Deleted');
    expect((await say(alice, 'preset save x <!channel>')).text).not.toContain('<!channel>');
  });

  it('history lists the last edits; help lists the directions; both are private', async () => {
    const history = await say(h.fake.users.bob, 'history');
    expect(history.response_type).toBe('ephemeral');
    expect(history.text.split('\n')[0]).toContain('`global:0.45`');
    const help = await say(h.fake.users.bob, 'help');
    expect(help.text).toContain('`global`');
    expect(help.text).toContain('`shift`');
    expect(help.text).toContain('Model *Analytic test model (per-pixel Gaussian data, exact epsilon)* (used here): edits per-pixel Gaussian test images, 16 px. Real-photo models: docs/models.md.');
  });
});

describe('linking identities', () => {
  it('joins the Slack and Discord accounts, so Discord presets are the Slack person\'s own', async () => {
    const { alice } = h.fake.users;
    const issued = await say(alice, 'link');
    const code = /`([A-Z0-9-]+)`/.exec(issued.text)?.[1];
    expect(code).toBeTruthy();
    const discordAlice = discord.storage.accounts.findByHandle(discordHandle)!;
    discord.storage.accounts.redeemLinkCode(code!, { accountId: discordAlice.id, platform: 'discord' });
    expect((await say(alice, 'preset list mine')).text).toContain('warm');
  });
});

describe('limits', () => {
  it('per-user limits and the channel allow-list refuse privately, before any work', async () => {
    const { alice, admin } = h.fake.users;
    await say(admin, 'admin limits 0 none');
    const callsBefore = h.fake.calls.length;
    const limited = await refused(alice, 'global 0.5');
    expect(limited).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(String(limited.text)).toContain('used your edits for this hour');
    await say(admin, 'admin limits none none');
    expect((await say(admin, 'admin channels here C0THIRD', 'C0OTHER')).text).toBe('Edits are allowed in <#C0OTHER>, <#C0THIRD>.');
    expect(String((await refused(alice, 'global 0.5')).text)).toContain('not enabled in this channel');
    await say(admin, 'admin channels all');
    // Refused before any work: no image looked up, no status, nothing sent to the engine.
    expect(h.fake.calls.slice(callsBefore).filter((c) => c.method !== 'users.info').map((c) => c.method)).toEqual([]);
    expect(guard.violations).toEqual([]);
  });
});
