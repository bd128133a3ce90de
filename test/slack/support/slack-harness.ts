/**
 * One end-to-end setup: the fake Slack, a real engine server on the analytic test model (or any
 * EngineApi), a fresh database, and the real Bolt app launched against them, all on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import type { EngineApi } from '../../../src/bots/core/types.js';
import { RateLimiter } from '../../../src/bots/core/rate-limiter.js';
import { launchSlackBot } from '../../../src/bots/slack/start-slack-bot.js';
import type { RunningSlackBot } from '../../../src/bots/slack/start-slack-bot.js';
import type { Storage } from '../../../src/storage/index.js';
import { openStorage } from '../../../src/storage/index.js';
import type { EngineClient } from '../../../src/engine/client/engine-client.js';
import type { EngineServer } from '../../../src/engine/service/start-engine-server.js';
import { FakeSlack } from '../../fake-slack/fake-slack.js';
import { installNetworkGuard, type NetworkGuard } from '../../fake-discord/network-guard.js';
import { startTestEngine } from '../../helpers/engine.js';
import type { FakeMessage } from '../../fake-slack/fake-slack-state.js';
import { memoryLog } from '../../helpers/memory-log.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

export const samplePng = (): Uint8Array => readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));
export const CHANNEL = 'C0GENERAL';

export interface SlackHarness {
  readonly fake: FakeSlack;
  bot: RunningSlackBot;
  readonly storage: Storage;
  /** Log lines as "level message"; logRecords holds them whole (with the interaction id). */
  readonly logs: string[];
  readonly logRecords: Record<string, unknown>[];
  readonly dataDir: string;
  /** Stops the app and starts a new one on the same database and data folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly socketMode?: boolean;
  readonly limiter?: RateLimiter;
  readonly storage?: Storage;
  readonly dataDir?: string;
  /** Status update interval; left out, the production default (2 s) applies. */
  readonly statusIntervalMs?: number | null;
  /** How long an accepted connection with no request yet holds post-ack work back; left out, the default. */
  readonly unreadConnectionMs?: number;
}

export async function startSlackHarness(engine: EngineApi, o: HarnessOptions = {}): Promise<SlackHarness> {
  const fake = await new FakeSlack().start();
  const dir = o.dataDir ?? tempDir('asyrp-slack-');
  const storage = o.storage ?? openStorage({ path: join(dir, 'bot.db') });
  const { log, lines: logs, records: logRecords } = memoryLog();
  const launch = async () => {
    const bot = await launchSlackBot({
      botToken: fake.botToken,
      signingSecret: o.socketMode ? null : fake.signingSecret,
      appToken: o.socketMode ? fake.appToken : null,
      apiUrl: fake.apiUrl,
      fileHosts: [fake.fileHost],
      port: 0,
      host: '127.0.0.1',
      storage,
      engine,
      dataDir: dir,
      limits: { maxInputBytes: 5_000_000, maxInputPixels: 20_000_000 },
      log,
      recentImageWindowMs: 3_600_000,
      ...(o.statusIntervalMs === null ? {} : { statusIntervalMs: o.statusIntervalMs ?? 30 }),
      ...(o.unreadConnectionMs !== undefined ? { unreadConnectionMs: o.unreadConnectionMs } : {}),
      // Many edits by one person in a few seconds: the production burst limit would refuse them.
      limiter: o.limiter ?? new RateLimiter({ burst: 1000 }),
    });
    fake.appUrl = bot.eventsUrl ?? '';
    trackListeners(bot);
    return bot;
  };
  const h: SlackHarness = {
    fake,
    bot: await launch(),
    storage,
    logs,
    logRecords,
    dataDir: dir,
    restart: async () => {
      await h.bot.stop();
      h.bot = await launch();
    },
    stop: async () => {
      await h.bot.stop().catch(() => undefined);
      await fake.stop();
      if (!o.storage) storage.close();
    },
  };
  return h;
}

/** The bot's message in a thread that carries uploaded files (the result), once it exists. */
export function resultIn(h: SlackHarness, channel: string, threadTs: string, after = 0): FakeMessage | undefined {
  return h.fake.threadReplies(channel, threadTs).filter((m) => m.files?.length && m.bot_id)[after];
}

export function actionIds(m: FakeMessage): string[] {
  return (m.blocks as { type: string; elements?: { action_id: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));
}

/** A block_actions payload for pressing one of a result's buttons. */
export function buttonPayload(h: SlackHarness, user: { id: string; name: string }, m: FakeMessage, actionId: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: h.fake.teamId, domain: 'fake' },
    user: { id: user.id, username: user.name, name: user.name, team_id: h.fake.teamId },
    api_app_id: 'A0FAKE',
    token: 'legacy',
    container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: false, thread_ts: m.thread_ts },
    trigger_id: h.fake.triggerId(),
    channel: { id: m.channel, name: 'general' },
    message: { type: 'message', ts: m.ts, thread_ts: m.thread_ts, text: m.text, blocks: m.blocks, user: m.user, bot_id: m.bot_id, files: m.files?.map(({ bytes: _b, ...f }) => f) },
    response_url: `${h.fake.base}/response/a1`,
    actions: [{ type: 'button', action_id: actionId, block_id: 'b', value: 'x', action_ts: String(Date.now() / 1000) }],
  };
}

export interface SlackSuiteOptions extends HarnessOptions {
  /** Wraps the real engine client (e.g. to add events or delays); left out, the bot talks to it directly. */
  readonly engine?: (client: EngineClient) => EngineApi;
}

export interface SlackSuite {
  /** The harness, the engine server and the network guard of this test file, usable inside its tests. */
  readonly h: SlackHarness;
  readonly engine: EngineServer;
  readonly guard: NetworkGuard;
}

/**
 * The set-up every Slack test file shares: a network guard (loopback only), a real engine server on the
 * analytic model, and the harness, started before the file's tests and stopped after them. The returned
 * objects stand for the running ones once the file's tests run.
 */
export function useSlackSuite(o: SlackSuiteOptions = {}): SlackSuite {
  let running: { h: SlackHarness; engine: EngineServer; guard: NetworkGuard } | undefined;
  let guard: NetworkGuard | undefined;
  let engine: EngineServer | undefined;
  let h: SlackHarness | undefined;
  beforeAll(async () => {
    guard = installNetworkGuard();
    const started = await startTestEngine();
    engine = started.server;
    h = await startSlackHarness(o.engine ? o.engine(started.client) : started.client, o);
    running = { h, engine, guard };
  });
  afterAll(async () => {
    await h?.stop();
    await engine?.close();
    guard?.restore();
  });
  const current = () => {
    if (!running) throw new Error('the Slack suite is used before its beforeAll ran (use it inside tests)');
    return running;
  };
  return { h: lazy(() => current().h), engine: lazy(() => current().engine), guard: lazy(() => current().guard) };
}

/** An object that forwards to the one `get` returns at the time of use (so it can be named before it exists). */
function lazy<T extends object>(get: () => T): T {
  return new Proxy({} as T, {
    get: (_, prop) => {
      const target = get();
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (_, prop, value) => Reflect.set(get(), prop, value),
    has: (_, prop) => Reflect.has(get(), prop),
  });
}

/** The listener runs each running app is in the middle of (see settled). */
const inFlight = new WeakMap<RunningSlackBot, Set<Promise<unknown>>>();

/**
 * A last global middleware that records each request's run through the app's listeners. The app's own
 * global middleware (the event_id check) and Bolt's run synchronously up to next(), and Bolt enters the
 * chain right after its ack (Events API) or before any listener can ack (commands, actions), so by the
 * time the fake has read the ack over the socket the run is recorded. Events the app's middleware drops
 * (a redelivered event_id) never get here, which is the point.
 */
function trackListeners(bot: RunningSlackBot): void {
  const running = new Set<Promise<unknown>>();
  inFlight.set(bot, running);
  bot.app.use(async ({ next }) => {
    const run = next();
    running.add(run);
    try {
      await run;
    } finally {
      running.delete(run);
    }
  });
}

/**
 * Quiescence: resolves once every request the fake has delivered and had acked has finished its run
 * through the app's listeners (the handlers await their whole edit). A test that must show that
 * something did *not* happen awaits this after its deliveries instead of sleeping.
 */
export async function settled(h: SlackHarness): Promise<void> {
  const running = inFlight.get(h.bot)!;
  await new Promise((r) => setImmediate(r));
  for (let rounds = 0; running.size > 0; rounds++) {
    if (rounds > 1000) throw new Error('the Slack app never became idle');
    await Promise.allSettled([...running]);
    await new Promise((r) => setImmediate(r));
  }
}
