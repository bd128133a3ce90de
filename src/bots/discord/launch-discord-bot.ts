/**
 * Builds the bot's pieces from its dependencies and starts it: the model catalog (from the engine's
 * /v1/models), the core edit service, then the Discord client. The CLI and the end-to-end tests both
 * start the bot through here, so they run the same wiring.
 */
import type { Storage } from '../../storage/index.js';
import { EditService } from '../core/edit-service.js';
import { ModelCatalog } from '../core/model-catalog.js';
import type { RateLimiter } from '../core/rate-limiter.js';
import type { BotLogger, CoreLimits, EngineApi } from '../core/types.js';
import type { RunningDiscordBot } from './start-discord-bot.js';
import { startDiscordBot } from './start-discord-bot.js';
import { describeForLog } from '../core/friendly-errors.js';

const CATALOG_REFRESH_MS = 5 * 60_000;

export interface LaunchDiscordOptions {
  readonly token: string;
  readonly restApi: string | null;
  readonly cdnHosts: readonly string[];
  readonly storage: Storage;
  readonly engine: EngineApi;
  readonly dataDir: string;
  readonly limits: CoreLimits;
  /** Results under this long side (px) are posted enlarged with the original attached (config bots.displaySize). */
  readonly displaySize?: number;
  readonly log: BotLogger;
  readonly messageContent?: boolean;
  readonly statusIntervalMs?: number;
  readonly fastIdentify?: boolean;
  readonly limiter?: RateLimiter;
}

export async function launchDiscordBot(o: LaunchDiscordOptions): Promise<RunningDiscordBot> {
  const catalog = new ModelCatalog(o.engine);
  await catalog.refresh();
  const edits = new EditService({ storage: o.storage, engine: o.engine, dataDir: o.dataDir, limits: o.limits, log: o.log, ...(o.displaySize !== undefined ? { displaySize: o.displaySize } : {}) }, catalog, {
    allowedHosts: o.cdnHosts,
    ...(o.limiter ? { limiter: o.limiter } : {}),
  });
  const bot = await startDiscordBot({
    token: o.token,
    restApi: o.restApi,
    edits,
    catalog,
    storage: o.storage,
    log: o.log,
    ...(o.messageContent !== undefined ? { messageContent: o.messageContent } : {}),
    ...(o.statusIntervalMs !== undefined ? { statusIntervalMs: o.statusIntervalMs } : {}),
    ...(o.fastIdentify !== undefined ? { fastIdentify: o.fastIdentify } : {}),
  });
  // The engine may be restarted with new directions; keep the list (recipes, emoji, help) current.
  // Slash subcommands only change with `deploy-commands`.
  // Deduplication keys (interactions, reactions, pickers) expire after a day; drop them now and then.
  const refresh = setInterval(() => {
    catalog.refresh().catch((e: unknown) => o.log.warn(`could not refresh the model list: ${describeForLog(e)}`));
    try {
      o.storage.idempotency.purgeExpired();
    } catch (e) {
      o.log.warn(`could not purge old deduplication keys: ${describeForLog(e)}`);
    }
  }, CATALOG_REFRESH_MS);
  refresh.unref();
  return {
    ...bot,
    stop: async (options) => {
      clearInterval(refresh);
      await bot.stop(options);
    },
  };
}
