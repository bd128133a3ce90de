/**
 * SIGTERM and restart of `asyrp slack` (HTTP mode) as a real child process: with ten edits in flight
 * (the engine accepted them; a gate holds the bot's view of their progress), SIGTERM stops intake,
 * hands all ten over to the pending list and exits within the documented 30 s; the next start finishes
 * them, uploads each result once into its thread, and turns each status message and reaction into it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { SHUTDOWN_EXIT_MS } from '../../src/bots/core/shutdown.js';
import { FakeSlack } from '../fake-slack/fake-slack.js';
import { startBotChild } from '../helpers/bot-child.js';
import type { BotChild } from '../helpers/bot-child.js';
import { startEngineGate } from '../helpers/engine-gate.js';
import type { EngineGate } from '../helpers/engine-gate.js';
import { startTestEngine } from '../helpers/engine.js';
import { tempDir } from '../helpers/paths.js';
import { CHANNEL, samplePng } from './support/slack-harness.js';

let engine: EngineServer;
let fake: FakeSlack;
let gate: EngineGate;
const children: BotChild[] = [];

beforeAll(async () => {
  engine = (await startTestEngine()).server;
  fake = await new FakeSlack().start();
  gate = await startEngineGate(engine.url, { closed: true });
});

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await gate?.stop();
  await fake?.stop();
  await engine?.close();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const pendingIn = (dataDir: string): unknown[] => {
  const file = join(dataDir, 'pending-edits-slack.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
};

describe('asyrp slack: SIGTERM and restart', () => {
  it('hands 10 running edits over on SIGTERM and delivers 10/10 exactly once after the restart', async () => {
    const dataDir = tempDir('asyrp-slack-term-');
    const port = await freePort();
    const env = {
      ASYRP_DATA_DIR: dataDir,
      ASYRP_DB: join(dataDir, 'bot.db'),
      ASYRP_ENGINE_URL: gate.url,
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: fake.signingSecret,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: fake.fileHost,
      SLACK_PORT: String(port),
      SLACK_HOST: '127.0.0.1',
    };
    const start = async () => {
      const c = await startBotChild('slack', env, /Slack bot ready/);
      children.push(c);
      return c;
    };
    const first = await start();
    fake.appUrl = `http://127.0.0.1:${port}/slack/events`;
    // Ten people, each with an image in the channel and one edit of it.
    const users = Array.from({ length: 10 }, (_, n) => ({ id: `U0PERSON${n}`, name: `person${n}` }));
    const images = users.map((u) => fake.postImage(u, CHANNEL, samplePng()));
    const acks = await Promise.all(users.map((u) => fake.command(u, CHANNEL, 'global')));
    for (const a of acks) expect(a.status).toBe(200);
    await fake.waitFor(() => (gate.submissions() >= 10 && gate.held() >= 10) || undefined, 'ten edits running', 40_000);

    const stopped = await first.terminate();
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(SHUTDOWN_EXIT_MS);
    expect(first.log()).toContain('handing 10 running edit(s) over');
    expect(pendingIn(dataDir)).toHaveLength(10);

    gate.open();
    const second = await start();
    const byThread = (m: { ts: string }) => fake.threadReplies(CHANNEL, m.ts).filter((r) => r.bot_id && !r.deleted);
    await fake.waitFor(() => images.every((m) => byThread(m).some((r) => r.files?.length)) || undefined, 'ten results', 40_000);
    await fake.waitFor(() => pendingIn(dataDir).length === 0 || undefined, 'the pending list to empty');
    for (const m of images) {
      const replies = byThread(m);
      expect(replies.filter((r) => r.files?.length)).toHaveLength(1); // the result, once
      const statuses = replies.filter((r) => !r.files?.length);
      expect(statuses).toHaveLength(1); // the original status message, updated in place
      expect(statuses[0]!.text).toContain('✅ Done');
      const source = m;
      expect(source.reactions.map((r) => r.name)).toContain('white_check_mark');
      expect(source.reactions.map((r) => r.name)).not.toContain('hourglass_flowing_sand');
    }
    expect(gate.submissions()).toBe(10); // no job ran twice
    expect((await second.terminate()).code).toBe(0);
  }, 58_000);
});
