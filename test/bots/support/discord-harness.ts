/**
 * One end-to-end setup: the fake Discord, a real engine server on the test models (or any EngineApi),
 * a fresh database, and the real bot (discord.js) launched against them, all on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineApi } from '../../../src/bots/core/types.js';
import { RateLimiter } from '../../../src/bots/core/rate-limiter.js';
import { launchDiscordBot } from '../../../src/bots/discord/launch-discord-bot.js';
import type { RunningDiscordBot } from '../../../src/bots/discord/start-discord-bot.js';
import type { Storage } from '../../../src/storage/index.js';
import { openStorage } from '../../../src/storage/index.js';
import { FakeDiscord } from '../../fake-discord/fake-discord.js';
import type { FakeDiscordOptions } from '../../fake-discord/fake-discord.js';
import type { FakeInteraction } from '../../fake-discord/fake-interactions.js';
import type { StoredMessage } from '../../fake-discord/fake-state.js';
import { memoryLog } from '../../helpers/memory-log.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

export const samplePng = (): Uint8Array => readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));

export interface Harness {
  readonly fake: FakeDiscord;
  bot: RunningDiscordBot;
  /** Stops the bot and starts a new process-like instance on the same database and data folder. */
  restart(engine?: EngineApi): Promise<void>;
  readonly storage: Storage;
  /** Log lines as "level message"; logRecords holds them whole (with the interaction id). */
  readonly logs: string[];
  readonly logRecords: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startHarness(
  engine: EngineApi,
  o: { fake?: FakeDiscordOptions; limiter?: RateLimiter; messageContent?: boolean; wrapStorage?: (s: Storage) => Storage } = {},
): Promise<Harness> {
  const fake = await new FakeDiscord(o.fake).start();
  const dir = tempDir('asyrp-discord-');
  const storage = openStorage({ path: join(dir, 'bot.db'), synchronous: 'normal' }); // as `asyrp discord` opens it
  const { log, lines: logs, records: logRecords } = memoryLog();
  let currentEngine = engine;
  const launch = async () => watchSequence(fake, await launchDiscordBot({
    token: fake.token,
    restApi: fake.restApi,
    cdnHosts: [fake.cdnHost],
    // The bot may get a wrapped storage (ack-first records its calls); the test reads h.storage directly.
    storage: o.wrapStorage ? o.wrapStorage(storage) : storage,
    engine: currentEngine,
    dataDir: dir,
    limits: { maxInputBytes: 5_000_000, maxInputPixels: 20_000_000 },
    log,
    statusIntervalMs: 30,
    fastIdentify: true,
    // Many edits by one person in a few seconds: the production burst limit would refuse them.
    limiter: o.limiter ?? new RateLimiter({ burst: 1000 }),
    ...(o.messageContent !== undefined ? { messageContent: o.messageContent } : {}),
  }));
  const h: Harness = {
    fake,
    bot: await launch(),
    storage,
    logs,
    logRecords,
    restart: async (next) => {
      await h.bot.stop();
      if (next) currentEngine = next;
      h.bot = await launch();
    },
    stop: async () => {
      await h.bot.stop();
      await fake.stop();
      storage.close();
    },
  };
  return h;
}

/** Waits for an interaction's status line to end, and returns the result message it links to. */
export async function awaitResult(h: Harness, i: FakeInteraction) {
  const { fake } = h;
  const status = await fake.waitFor(() => {
    const c = fake.original(i)?.content ?? '';
    return c.startsWith('✅') || c.startsWith('❌') ? c : undefined;
  }, `the end of interaction ${i.id}`);
  const id = /\/(\d+)$/.exec(status)?.[1];
  const message = id ? fake.state.messages.get(id) : undefined;
  return { status, message, edit: message ? h.storage.history.findByMessage('discord', message.id) : undefined };
}

export const customIds = (m: StoredMessage): string[] =>
  (m.components as { components: { custom_id: string }[] }[]).flatMap((r) => r.components.map((c) => c.custom_id));

/** How many gateway dispatches each running bot has received (see settled). */
const received = new WeakMap<RunningDiscordBot, { count: number }>();

/**
 * Starts counting the gateway dispatches a freshly launched bot receives, replays included. Login
 * resolves only once READY and the guilds have arrived, so everything sent before this point was received.
 */
function watchSequence(fake: FakeDiscord, bot: RunningDiscordBot): RunningDiscordBot {
  const mark = { count: fake.gateway.dispatchesSent };
  bot.client.on('raw', () => void mark.count++);
  received.set(bot, mark);
  return bot;
}

/**
 * Quiescence: resolves once the bot has received every gateway event the fake has dispatched so far and
 * every handler it started for them has finished (the bot tracks them in context.lifecycle.inFlight,
 * the set stop() drains). A test that must show that something did *not* happen waits for this instead
 * of sleeping and hoping the bot was done.
 */
export async function settled(h: Harness, timeoutMs = 20_000): Promise<void> {
  const { fake, bot } = h;
  const target = fake.gateway.dispatchesSent;
  const mark = received.get(bot)!;
  // discord.js emits "raw" before it routes the event, and the bot registers the handler's promise in
  // that turn, so once every dispatch has arrived and one macrotask has passed, inFlight holds them all.
  await fake.waitFor(() => mark.count >= target || undefined, `gateway dispatch ${target} at the bot`, timeoutMs);
  await new Promise((r) => setImmediate(r));
  for (let rounds = 0; bot.context.lifecycle.inFlight.size > 0; rounds++) {
    if (rounds > 1000) throw new Error('the bot never became idle');
    await Promise.allSettled([...bot.context.lifecycle.inFlight]);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * The answer to a command, however it was given: the reply itself (callback 4), or the edit of a
 * deferred reply (callback 5; commands that write acknowledge first and answer by editing). Resolves
 * with the text and whether it is private.
 */
export async function answerOf(h: Harness, token: string): Promise<{ text: string; ephemeral: boolean }> {
  return h.fake.waitFor(() => {
    const i = h.fake.book.get(token);
    if (i?.callbackType === 4) return { text: String(i.callbackData?.content ?? ''), ephemeral: i.ephemeral === true };
    if (i?.callbackType === 5 && i.originalEdited) {
      const m = h.fake.original(i);
      if (m) return { text: m.content, ephemeral: i.ephemeral === true };
    }
    return undefined;
  }, `the answer to interaction ${token.slice(0, 8)}`);
}
