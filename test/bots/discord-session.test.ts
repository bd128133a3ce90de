/**
 * The bot's gateway session and set-up against the fake Discord (real engine): resume after a
 * reconnect or a dropped socket without running anything twice, the latest-image fallback, running
 * without the MESSAGE_CONTENT intent, command deployment, and the loopback-only network guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommands } from '../../src/bots/discord/command-definitions.js';
import { deployCommands } from '../../src/bots/discord/deploy-commands.js';
import { NO_CONTENT_INTENT_TEXT } from '../../src/bots/discord/reaction-handler.js';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import type { EngineClient } from '../../src/engine/client/engine-client.js';
import { startTestEngine } from '../helpers/engine.js';
import { FakeDiscord } from '../fake-discord/fake-discord.js';
import { MESSAGE_CONTENT_INTENT } from '../fake-discord/fake-gateway.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import type { GatedEngine } from './support/gated-engine.js';
import { gatedEngine } from './support/gated-engine.js';
import { answerOf, awaitResult, samplePng, settled, startHarness } from './support/discord-harness.js';

let guard: NetworkGuard;
let engine: EngineServer;
let client: EngineClient;

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  client = started.client;
});

afterAll(async () => {
  await engine?.close();
  guard?.restore();
});

const image = () => ({ image: { bytes: samplePng() } });

describe('gateway reconnect and resume', () => {
  let gated: GatedEngine;
  it('resumes after op 7 and a dropped socket, replays missed events, and never runs a job twice', async () => {
    gated = gatedEngine(client);
    const h = await startHarness(gated);
    try {
      const { fake } = h;
      const first = await awaitResult(h, fake.slash(fake.users.alice, ['global'], {}, image()));
      expect(first.status).toMatch(/^✅ Done:/);
      const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
      fake.react(fake.users.alice, posted, '🌀'); // not mapped: ignored, but part of the replay below
      const editsBefore = h.storage.history.listForAccount(first.edit!.accountId).length;

      // Discord asks for a reconnect; this fake then replays the whole session (as a stale RESUME would).
      fake.gateway.replayFromOnResume = 0;
      fake.gateway.requestReconnect();
      await fake.waitFor(() => fake.gateway.resumes === 1 && fake.gateway.connected, 'the resume');
      await settled(h);
      expect(fake.gateway.identifies).toBe(1);
      expect(gated.submitted).toHaveLength(1);
      expect(fake.calls.filter((c) => c.path.includes('/callback') && c.status !== 204)).toEqual([]);

      // An interaction sent while the socket is down arrives with the resume and runs once.
      fake.gateway.dropConnection();
      const missed = fake.slash(fake.users.alice, ['shift'], { strength: 0.5 }, image());
      const second = await awaitResult(h, missed);
      expect(second.status).toMatch(/^✅ Done:/);
      expect(fake.gateway.resumes).toBe(2);
      expect(gated.submitted).toEqual([`discord:i:${fake.book.all()[0]!.id}`, `discord:i:${missed.id}`]);
      expect(h.storage.history.listForAccount(first.edit!.accountId)).toHaveLength(editsBefore + 1);
    } finally {
      await h.stop();
    }
  });
});

describe('input image and intents', () => {
  it('uses the latest image in the channel when the command has none', async () => {
    const h = await startHarness(client);
    try {
      const { fake } = h;
      const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
      const result = await awaitResult(h, fake.slash(fake.users.alice, ['global'], { strength: 0.3 }));
      expect(result.message!.channel_id).toBe(posted.id); // the thread hangs on bob's image message
      expect(fake.gateway.intents & MESSAGE_CONTENT_INTENT).toBe(MESSAGE_CONTENT_INTENT);
    } finally {
      await h.stop();
    }
  });

  it('logs in without MESSAGE_CONTENT when Discord refuses it, and says so instead of failing silently', async () => {
    const allowed = 0xffff & ~MESSAGE_CONTENT_INTENT;
    const h = await startHarness(client, { fake: { allowedIntents: allowed } });
    try {
      const { fake } = h;
      expect(fake.gateway.intents & MESSAGE_CONTENT_INTENT).toBe(0);
      expect(h.logs.some((l) => l.includes('MESSAGE CONTENT'))).toBe(true);
      const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
      fake.react(fake.users.alice, posted, '😄'); // unmapped and no default on this model: nothing
      const admin = fake.slash(fake.users.admin, ['admin', 'emoji'], { emoji: '😄', recipe: 'global' }, { admin: true });
      const answer = await answerOf(h, admin.token);
      fake.react(fake.users.alice, posted, '😄');
      expect(answer.text).toContain('global');
      const note = await fake.waitFor(() => fake.messagesIn(posted.channel_id).find((m) => m.content === NO_CONTENT_INTENT_TEXT), 'the intent notice', 3000).catch((e: unknown) => {
        throw new Error(`${String(e)}; logs: ${h.logs.join(' / ')}`);
      });
      expect(note.message_reference).toMatchObject({ message_id: posted.id });

      const noImage = fake.slash(fake.users.alice, ['global'], {});
      const status = await fake.waitFor(() => fake.original(noImage)?.content || undefined, 'the hint');
      expect(status).toContain('MESSAGE CONTENT intent is off');
    } finally {
      await h.stop();
    }
  });
});

describe('deploy-commands', () => {
  it('registers one subcommand per direction, edit/history/help, the preset and admin groups, and the context menu', async () => {
    const fake = await new FakeDiscord().start();
    try {
      const { models } = await client.models();
      const model = models.find((m) => m.isDefault)!;
      const n = await deployCommands({ token: fake.token, appId: fake.state.appId, restApi: fake.restApi, guildId: fake.state.guildId, commands: buildCommands(model) });
      expect(n).toBe(2);
      const put = fake.calls.find((c) => c.method === 'PUT')!;
      expect(put.path).toBe(`/api/v10/applications/${fake.state.appId}/guilds/${fake.state.guildId}/commands`);
      const [slash, menu] = put.json as unknown as { name: string; type: number; options: { name: string; type: number }[] }[];
      const names = slash!.options.map((o) => o.name);
      expect(names).toEqual([...model.directions.map((d) => d.name), 'edit', 'history', 'help', 'link', 'preset', 'admin']);
      expect(menu).toMatchObject({ name: 'Edit with Asyrp', type: 3, contexts: [0] });
      expect(slash).toMatchObject({ contexts: [0], integration_types: [0] });
    } finally {
      await fake.stop();
    }
  });
});

describe('network guard', () => {
  it('refuses any connection that leaves loopback', async () => {
    await expect(fetch('http://example.com/')).rejects.toThrow();
    expect(guard.violations).toContain('example.com');
    guard.violations.length = 0;
  });
});

describe('shutdown', () => {
  it('refuses new work politely while a running edit finishes, then disconnects', async () => {
    const gated = gatedEngine(client);
    const h = await startHarness(gated);
    try {
      const { fake } = h;
      gated.close();
      const running = fake.slash(fake.users.alice, ['global'], {}, image());
      await fake.waitFor(() => gated.submitted.length === 1, 'the running job');
      const stopping = h.bot.stop({ drainMs: 10_000 });
      const late = fake.slash(fake.users.bob, ['global'], {}, image());
      await fake.waitFor(() => fake.book.get(late.token)?.callbackType === 4, 'the refusal');
      expect(fake.book.get(late.token)!.callbackData?.content).toContain('restarting');
      expect(fake.book.get(late.token)!.ephemeral).toBe(true);
      gated.open();
      await stopping;
      expect(fake.original(running)?.content).toMatch(/^✅ Done:/);
      expect(gated.submitted).toHaveLength(1);
    } finally {
      await h.stop();
    }
  });
});
