/**
 * Builds the Slack bot from its dependencies and starts it: the model catalog (the engine's
 * /v1/models), the core edit service, then the Bolt app, over HTTP (signed requests on
 * POST /slack/events; signature verification always on) or over Socket Mode when an app token is given.
 * The CLI and the end-to-end tests start the bot through here, so they run the same wiring.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import type { Storage } from '../../storage/index.js';
import { AckFirst } from '../core/ack-first.js';
import { DedupeLedger } from '../core/dedupe-ledger.js';
import { EditService } from '../core/edit-service.js';
import { ModelCatalog } from '../core/model-catalog.js';
import type { RateLimiter } from '../core/rate-limiter.js';
import type { BotLogger, CoreLimits, EngineApi } from '../core/types.js';
import { describeForLog } from '../core/friendly-errors.js';
import { settleWithin } from '../core/settle-within.js';
import { registerListeners } from './register-listeners.js';
import { resumeSlackEdits } from './resume-pending.js';
import type { SlackBotContext } from './slack-context.js';
import { boltLogger } from './slack-logger.js';
import { refuseSkewedRequests } from './fresh-requests.js';

/** How long an accepted connection that has sent no request yet holds post-ack work back (default). */
const UNREAD_CONNECTION_MS = 500;

export interface LaunchSlackOptions {
  readonly botToken: string;
  /** Required for HTTP; unused in Socket Mode. */
  readonly signingSecret: string | null;
  /** Set: Socket Mode. */
  readonly appToken: string | null;
  /** Web API base URL; null: Slack's. */
  readonly apiUrl: string | null;
  readonly fileHosts: readonly string[];
  readonly port: number;
  /** Listen address for HTTP mode; default 127.0.0.1 (behind the HTTPS reverse proxy Slack requires). */
  readonly host?: string;
  readonly storage: Storage;
  readonly engine: EngineApi;
  readonly dataDir: string;
  readonly limits: CoreLimits;
  /** Results under this long side (px) are posted enlarged with the original attached (config bots.displaySize). */
  readonly displaySize?: number;
  readonly log: BotLogger;
  readonly recentImageWindowMs: number;
  readonly statusIntervalMs?: number;
  /** How long an accepted connection that has sent no request yet holds post-ack work back (default 500 ms). */
  readonly unreadConnectionMs?: number;
  readonly limiter?: RateLimiter;
}

export interface RunningSlackBot {
  readonly app: InstanceType<typeof App>;
  readonly context: SlackBotContext;
  /** POST URL for signed requests (HTTP mode), null in Socket Mode. */
  readonly eventsUrl: string | null;
  /**
   * Stops intake, waits up to drainMs (default 0) for running edits to finish, hands the rest over to
   * the pending list (the next start finishes them), waits up to handoverMs (default 10 s) for that.
   */
  stop(options?: { drainMs?: number; handoverMs?: number }): Promise<void>;
}

export async function launchSlackBot(o: LaunchSlackOptions): Promise<RunningSlackBot> {
  const socketMode = Boolean(o.appToken);
  if (!socketMode && !o.signingSecret) throw new Error('the Slack signing secret is required over HTTP (set SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode)');
  const catalog = new ModelCatalog(o.engine);
  await catalog.refresh();
  const edits = new EditService({ storage: o.storage, engine: o.engine, dataDir: o.dataDir, limits: o.limits, log: o.log, ...(o.displaySize !== undefined ? { displaySize: o.displaySize } : {}) }, catalog, {
    allowedHosts: o.fileHosts,
    ...(o.limiter ? { limiter: o.limiter } : {}),
  });
  const logger = boltLogger(o.log);
  const intake = new AckFirst();
  /** Connections accepted whose first request has not been read yet: each is an answer owed too. */
  const unread = new WeakMap<Socket, () => void>();
  let receiver: HTTPReceiver | undefined;
  if (!socketMode) {
    // processBeforeResponse false: ack() writes the HTTP answer at once, before the listener goes on.
    receiver = new HTTPReceiver({ signingSecret: o.signingSecret!, signatureVerification: true, processBeforeResponse: false, logger });
    const listener = refuseSkewedRequests(receiver.requestListener);
    receiver.requestListener = (req, res) => {
      // Counted from arrival until the answer is written (or the connection dropped): see AckFirst.
      res.once('close', intake.arrive());
      unread.get(req.socket)?.(); // counted from here as a request (above), no longer as a connection
      listener(req, res);
    };
  }
  const app = new App({
    token: o.botToken,
    logger,
    // web-api's default is ten retries over half an hour and no timeout: a dead Slack must not hang jobs.
    clientOptions: { ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}), retryConfig: { retries: 2, factor: 2, minTimeout: 500 }, timeout: 30_000 },
    deferInitialization: true,
    // No listener reads context.conversation; Bolt's default store would run on every request before its ack.
    convoStore: false,
    ...(receiver ? { receiver } : { socketMode: true, appToken: o.appToken! }),
  });
  await app.init(); // auth.test: a wrong bot token fails here, at start, not on the first command
  const auth = await app.client.auth.test();
  // Keys earlier processes persisted: a retry delivered after a restart is still stopped in memory.
  const dedupe = new DedupeLedger(o.storage.idempotency, { prefixes: ['slack:'], log: o.log });
  dedupe.load();
  const context: SlackBotContext = {
    client: app.client,
    dedupe,
    intake,
    botToken: o.botToken,
    botUserId: auth.user_id ?? '',
    edits,
    catalog,
    storage: o.storage,
    log: o.log,
    recentImageWindowMs: o.recentImageWindowMs,
    statusIntervalMs: o.statusIntervalMs ?? 2000,
    lifecycle: { closing: false, inFlight: new Set(), handover: new AbortController() },
  };
  registerListeners(app, context);
  const resuming = resumeSlackEdits(context).catch((e: unknown) => o.log.error(`resuming edits: ${describeForLog(e)}`));
  context.lifecycle.inFlight.add(resuming);
  void resuming.finally(() => context.lifecycle.inFlight.delete(resuming));
  let eventsUrl: string | null = null;
  if (socketMode) {
    await app.start();
  } else {
    const server = (await app.start({ port: o.port, host: o.host ?? '127.0.0.1' })) as Server;
    // A burst's connections are accepted together, and their requests read one after another; counted
    // only once read, the requests still unread left gaps in which earlier commands' post-ack work ran
    // (measured on a loaded 2-core VM: docs/benchmarks.md). So a connection counts from its accept until
    // its first request is read or it closes, at most unreadConnectionMs (an idle keep-alive or a
    // probe that sends nothing holds nothing back for longer; AckFirst's own 2 s cap holds anyway).
    server.on('connection', (socket: Socket) => {
      const done = intake.arrive();
      const timer = setTimeout(release, o.unreadConnectionMs ?? UNREAD_CONNECTION_MS).unref();
      function release() {
        clearTimeout(timer);
        unread.delete(socket);
        done();
      }
      unread.set(socket, release);
      socket.once('close', release);
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    eventsUrl = `http://${host}:${addr.port}/slack/events`;
  }
  o.log.info(`Slack bot ready as ${auth.user ?? 'unknown'} (${socketMode ? 'Socket Mode' : `HTTP on ${eventsUrl}`})`);
  return {
    app,
    context,
    eventsUrl,
    stop: async ({ drainMs = 0, handoverMs = 10_000 } = {}) => {
      const { lifecycle } = context;
      lifecycle.closing = true;
      await app.stop(); // no new requests (HTTP server closed, or the socket disconnected)
      if (drainMs > 0 && lifecycle.inFlight.size > 0) await settleWithin(lifecycle.inFlight, drainMs);
      lifecycle.handover.abort();
      if (lifecycle.inFlight.size > 0) {
        o.log.info(`handing ${lifecycle.inFlight.size} running edit(s) over to the next start`);
        if (!(await settleWithin(lifecycle.inFlight, handoverMs))) o.log.warn(`${lifecycle.inFlight.size} handler(s) still busy after ${handoverMs} ms; stopping anyway`);
      }
      dedupe.flush();
    },
  };
}
