/**
 * `asyrp discord`: runs the Discord bot until SIGINT/SIGTERM.
 * `asyrp discord deploy-commands [--guild <id>]`: registers the slash and context-menu commands over
 * REST (guild scope is instant, for development; global scope for release). Never done on start-up.
 */
import type { CliContext } from '../cli-context.js';
import { appLogger } from '../app-logger.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { engineUrl } from '../engine-url.js';
import { runBotUntilStopped } from '../stop-signal.js';
import { DISCORD } from '../command-specs.js';
import { EngineClient } from '../../engine/client/engine-client.js';
import { openStorage } from '../../storage/index.js';
import { buildCommands } from '../../bots/discord/command-definitions.js';
import { deployCommands } from '../../bots/discord/deploy-commands.js';
import { launchDiscordBot } from '../../bots/discord/launch-discord-bot.js';
import { ModelCatalog } from '../../bots/core/model-catalog.js';
import { describeForLog } from '../../bots/core/friendly-errors.js';
import { EngineClientError } from '../../engine/client/engine-client.js';

/** Start-up failures in words an operator can act on (never the token). */
function startupProblem(e: unknown, url: string): string {
  if (e instanceof EngineClientError && e.code === 'UNAVAILABLE') return `cannot reach the engine at ${url}; start it first with \`asyrp engine\``;
  if (/TokenInvalid|401|Authentication failed/i.test(describeForLog(e))) return 'Discord refused the bot token; check DISCORD_TOKEN';
  return describeForLog(e);
}

function engineClient(ctx: CliContext): EngineClient {
  return new EngineClient({ baseUrl: engineUrl(ctx.config.engine, ctx.config.discord.engineUrl), token: ctx.secrets.engineToken });
}

function requireToken(ctx: CliContext): string {
  const token = ctx.secrets.discordToken;
  if (!token) throw new UsageError('set DISCORD_TOKEN (the bot token from the Discord Developer Portal)');
  return token;
}

export async function discordCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(argv, DISCORD.flags);
  const [sub] = positionals;
  const log = appLogger(ctx, 'discord');
  if (sub === 'deploy-commands') {
    const appId = ctx.config.discord.appId;
    if (!appId) throw new UsageError('set DISCORD_APP_ID (the application id from the Discord Developer Portal)');
    const catalog = new ModelCatalog(engineClient(ctx));
    try {
      await catalog.refresh();
    } catch (e) {
      log.error(startupProblem(e, engineUrl(ctx.config.engine, ctx.config.discord.engineUrl)));
      return 1;
    }
    const guildId = typeof flags.guild === 'string' ? flags.guild : null;
    const n = await deployCommands({ token: requireToken(ctx), appId, restApi: ctx.config.discord.restApi, guildId, commands: buildCommands(catalog.current) });
    ctx.out.write(`registered ${n} commands ${guildId ? `in guild ${guildId}` : 'globally (may take up to an hour to appear)'}\n`);
    return 0;
  }
  if (sub !== undefined) throw new UsageError(`unknown subcommand "${sub}"`);

  const token = requireToken(ctx);
  const storage = openStorage({ path: ctx.config.storage.path, busyTimeoutMs: ctx.config.storage.busyTimeoutMs, synchronous: ctx.config.storage.botSynchronous });
  try {
    const bot = await launchDiscordBot({
      token,
      restApi: ctx.config.discord.restApi,
      cdnHosts: ctx.config.discord.cdnHosts,
      storage,
      engine: engineClient(ctx),
      dataDir: ctx.config.dataDir,
      limits: ctx.config.limits,
      displaySize: ctx.config.bots.displaySize,
      log,
      messageContent: flags['no-message-content'] !== true,
    });
    await runBotUntilStopped(bot, log);
    return 0;
  } catch (e) {
    log.error(startupProblem(e, engineUrl(ctx.config.engine, ctx.config.discord.engineUrl)));
    return 1;
  } finally {
    storage.close();
  }
}
