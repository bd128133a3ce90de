/**
 * The Discord bot's composition: build the client, wire the listeners, log in. Commands are not
 * registered here (deploy-commands does that, on purpose, never on ready). If the MESSAGE_CONTENT
 * intent was asked for but is not enabled for the application (close 4014), the bot logs in again
 * without it and says so, instead of failing.
 */
import { Events } from 'discord.js';
import type { Client } from 'discord.js';
import { DedupeLedger } from '../core/dedupe-ledger.js';
import type { EditService } from '../core/edit-service.js';
import { describeForLog, redactSecrets } from '../core/friendly-errors.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import type { BotLogger } from '../core/types.js';
import type { Storage } from '../../storage/index.js';
import type { DiscordBotContext } from './bot-context.js';
import { createDiscordClient } from './discord-client.js';
import { routeInteraction } from './interaction-router.js';
import { handleReaction } from './reaction-handler.js';
import { resumePendingEdits } from './resume-pending.js';
import { settleWithin } from '../core/settle-within.js';

export interface StartDiscordOptions {
  readonly token: string;
  readonly restApi: string | null;
  readonly edits: EditService;
  readonly catalog: ModelCatalog;
  readonly storage: Storage;
  readonly log: BotLogger;
  /** Ask for MESSAGE_CONTENT (default true); falls back without it when Discord refuses. */
  readonly messageContent?: boolean;
  readonly statusIntervalMs?: number;
  readonly fastIdentify?: boolean;
}

export interface RunningDiscordBot {
  readonly client: Client;
  readonly context: DiscordBotContext;
  /**
   * Refuses new work, waits up to drainMs (default 0) for running edits to finish, then hands the rest
   * over (each stops following its engine job and stays on the pending list for the next start), waits
   * up to handoverMs (default 10 s) for that, writes the dedupe keys and disconnects.
   */
  stop(options?: { drainMs?: number; handoverMs?: number }): Promise<void>;
}

const DISALLOWED_INTENTS = 4014;


async function login(client: Client, token: string): Promise<void> {
  let closeCode: number | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    client.once(Events.ClientReady, () => resolve());
    client.once(Events.ShardDisconnect, (event) => {
      closeCode = event.code;
      reject(new Error(`gateway closed ${event.code}`));
    });
  });
  ready.catch(() => undefined); // login() may reject first; this one is then moot
  try {
    await client.login(token);
    await ready;
  } catch (e) {
    // discord.js rejects login() with "Used disallowed intents" and emits the 4014 close separately.
    if (closeCode === undefined && /disallowed intents/i.test((e as Error).message)) closeCode = DISALLOWED_INTENTS;
    throw Object.assign(new Error(`Discord login failed: ${describeForLog(e)}`), { closeCode });
  }
}

export async function startDiscordBot(o: StartDiscordOptions): Promise<RunningDiscordBot> {
  let messageContent = o.messageContent ?? true;
  let client = createDiscordClient({ restApi: o.restApi, messageContent, fastIdentify: o.fastIdentify ?? false });
  try {
    await login(client, o.token);
  } catch (e) {
    if ((e as { closeCode?: number }).closeCode !== DISALLOWED_INTENTS || !messageContent) {
      await client.destroy();
      throw e;
    }
    o.log.warn('Discord refused the MESSAGE CONTENT intent; reactions and "latest image" will ask people to use the context menu. Enable it in the Developer Portal → Bot → Privileged Gateway Intents.');
    await client.destroy();
    messageContent = false;
    client = createDiscordClient({ restApi: o.restApi, messageContent, fastIdentify: o.fastIdentify ?? false });
    await login(client, o.token);
  }
  // Keys earlier processes persisted: a duplicate delivered after a restart is still stopped in memory.
  const dedupe = new DedupeLedger(o.storage.idempotency, { prefixes: ['discord:interaction:', 'discord:reaction:'], log: o.log });
  dedupe.load();
  const context: DiscordBotContext = {
    client,
    dedupe,
    edits: o.edits,
    catalog: o.catalog,
    storage: o.storage,
    log: o.log,
    messageContent,
    statusIntervalMs: o.statusIntervalMs ?? 1500,
    lifecycle: { closing: false, inFlight: new Set(), handover: new AbortController() },
  };
  const track = (work: Promise<void>, what: string, log: BotLogger = o.log) => {
    const p = work.catch((e: unknown) => log.error(`${what}: ${describeForLog(e)}`));
    context.lifecycle.inFlight.add(p);
    void p.finally(() => context.lifecycle.inFlight.delete(p));
  };
  // Each interaction and reaction is handled with a logger whose every line carries its id.
  client.on(Events.InteractionCreate, (i) => {
    const log = o.log.child({ interaction: i.id });
    track(routeInteraction({ ...context, log }, i), 'interaction', log);
  });
  client.on(Events.MessageReactionAdd, (r, u) => {
    if (context.lifecycle.closing) return;
    const log = o.log.child({ interaction: `reaction:${r.message.id}:${u.id}` });
    track(handleReaction({ ...context, log }, r, u), 'reaction', log);
  });
  client.on(Events.Error, (e) => o.log.error(`discord: ${describeForLog(e)}`));
  client.on(Events.ShardResume, (_id, replayed) => o.log.info(`gateway resumed (${replayed} events replayed)`));
  client.rest.on('rateLimited', (info) => o.log.warn(`discord rate limit on ${redactSecrets(info.route)} (${info.scope}), retry in ${info.retryAfter} ms`));
  track(resumePendingEdits(context).then(() => undefined), 'resuming edits');
  o.log.info(`Discord bot ready as ${client.user?.username ?? 'unknown'}${messageContent ? '' : ' (without MESSAGE CONTENT intent)'}`);
  return {
    client,
    context,
    stop: async ({ drainMs = 0, handoverMs = 10_000 } = {}) => {
      const { lifecycle } = context;
      lifecycle.closing = true;
      if (drainMs > 0 && lifecycle.inFlight.size > 0) {
        o.log.info(`waiting up to ${Math.round(drainMs / 1000)} s for ${lifecycle.inFlight.size} running edit(s)`);
        await settleWithin(lifecycle.inFlight, drainMs);
      }
      lifecycle.handover.abort();
      if (lifecycle.inFlight.size > 0) {
        o.log.info(`handing ${lifecycle.inFlight.size} running edit(s) over to the next start`);
        if (!(await settleWithin(lifecycle.inFlight, handoverMs))) o.log.warn(`${lifecycle.inFlight.size} handler(s) still busy after ${handoverMs} ms; stopping anyway`);
      }
      dedupe.flush();
      await client.destroy();
    },
  };
}
