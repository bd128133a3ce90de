/**
 * SIGTERM and restart of `asyrp discord` as a real child process: with ten edits in flight (the engine
 * accepted them; a gate holds the bot's view of their progress), SIGTERM stops intake, hands all ten
 * over to the pending list and exits within the documented 30 s; the next start finishes them, posts
 * each result once, and turns each person's original status reply into the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { SHUTDOWN_EXIT_MS } from '../../src/bots/core/shutdown.js';
import { FakeDiscord } from '../fake-discord/fake-discord.js';
import type { FakeUser } from '../fake-discord/fake-state.js';
import { startBotChild } from '../helpers/bot-child.js';
import type { BotChild } from '../helpers/bot-child.js';
import { startEngineGate } from '../helpers/engine-gate.js';
import type { EngineGate } from '../helpers/engine-gate.js';
import { startTestEngine } from '../helpers/engine.js';
import { tempDir } from '../helpers/paths.js';
import { samplePng } from './support/discord-harness.js';

let engine: EngineServer;
let fake: FakeDiscord;
let gate: EngineGate;
const children: BotChild[] = [];

beforeAll(async () => {
  engine = (await startTestEngine()).server;
  fake = await new FakeDiscord().start();
  gate = await startEngineGate(engine.url, { closed: true });
});

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await gate?.stop();
  await fake?.stop();
  await engine?.close();
});

const pendingIn = (dataDir: string): unknown[] => {
  const file = join(dataDir, 'pending-edits-discord.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
};

describe('asyrp discord: SIGTERM and restart', () => {
  it('hands 10 running edits over on SIGTERM and delivers 10/10 exactly once after the restart', async () => {
    const dataDir = tempDir('asyrp-discord-term-');
    const env = {
      ASYRP_DATA_DIR: dataDir,
      ASYRP_DB: join(dataDir, 'bot.db'),
      ASYRP_ENGINE_URL: gate.url,
      DISCORD_TOKEN: fake.token,
      DISCORD_REST_API: fake.restApi,
      DISCORD_CDN_HOSTS: fake.cdnHost,
    };
    const start = async () => {
      const c = await startBotChild('discord', env, /Discord bot ready/);
      children.push(c);
      return c;
    };
    const first = await start();
    // Ten people, one edit each (the production limits stay on: one person may start 5 a minute).
    const users: FakeUser[] = Array.from({ length: 10 }, (_, n) => ({ id: String(300_000_000_000_000_000n + BigInt(n)), username: `person${n}` }) as FakeUser);
    const runs = users.map((u) => fake.slash(u, ['global'], {}, { image: { bytes: samplePng(), filename: 'face.png' } }));
    await fake.waitFor(() => (gate.submissions() >= 10 && gate.held() >= 10) || undefined, 'ten edits running', 40_000);

    const stopped = await first.terminate();
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(SHUTDOWN_EXIT_MS);
    expect(first.log()).toContain('handing 10 running edit(s) over');
    expect(pendingIn(dataDir)).toHaveLength(10);
    for (const i of runs) expect(fake.original(i)?.content ?? '').not.toMatch(/^(✅|❌)/); // no error shown

    gate.open();
    const second = await start();
    const statuses = await fake.waitFor(() => {
      const all = runs.map((i) => fake.original(i)?.content ?? '');
      return all.every((c) => c.startsWith('✅ Done:')) ? all : undefined;
    }, 'ten status lines turned into results', 40_000);
    expect(statuses).toHaveLength(10);
    const results = [...fake.state.messages.values()].filter((m) => m.author.id === fake.state.botUser.id && m.attachments.length > 0 && !m.deleted);
    expect(results).toHaveLength(10); // each edit posted once
    for (const u of users) expect(results.filter((m) => m.content.includes(`<@${u.id}>`))).toHaveLength(1);
    expect(gate.submissions()).toBe(10); // no job ran twice
    await fake.waitFor(() => pendingIn(dataDir).length === 0 || undefined, 'the pending list to empty'); // removed right after each post
    expect((await second.terminate()).code).toBe(0);
  }, 58_000);
});
