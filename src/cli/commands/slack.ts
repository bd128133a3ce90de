/**
 * `asyrp slack`: runs the Slack app until SIGINT/SIGTERM. Over HTTP (signed requests on
 * POST /slack/events, port slack.port / SLACK_PORT) with SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, or over
 * Socket Mode (no public URL needed) when SLACK_APP_TOKEN is set too.
 */
import type { CliContext } from '../cli-context.js';
import { appLogger } from '../app-logger.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { engineUrl } from '../engine-url.js';
import { runBotUntilStopped } from '../stop-signal.js';
import { SLACK } from '../command-specs.js';
import { EngineClient, EngineClientError } from '../../engine/client/engine-client.js';
import { openStorage } from '../../storage/index.js';
import { describeForLog } from '../../bots/core/friendly-errors.js';
import { launchSlackBot } from '../../bots/slack/start-slack-bot.js';
import { redactSlack } from '../../bots/slack/slack-logger.js';

/** Start-up failures in words an operator can act on (never a token). */
function startupProblem(e: unknown, url: string): string {
  if (e instanceof EngineClientError && e.code === 'UNAVAILABLE') return `cannot reach the engine at ${url}; start it first with \`asyrp engine\``;
  const text = describeForLog(e);
  if (/invalid_auth|not_authed|account_inactive|token_revoked/.test(text)) return 'Slack refused the bot token; check SLACK_BOT_TOKEN (and SLACK_APP_TOKEN for Socket Mode)';
  return redactSlack(text);
}

export async function slackCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseArgs(argv, SLACK.flags);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const s = ctx.config.slack;
  const { slackBotToken: botToken, slackSigningSecret: signingSecret, slackAppToken: appToken } = ctx.secrets;
  if (!botToken) throw new UsageError('set SLACK_BOT_TOKEN (OAuth & Permissions → Bot User OAuth Token, xoxb-…)');
  if (!appToken && !signingSecret) throw new UsageError('set SLACK_SIGNING_SECRET (Basic Information → Signing Secret), or SLACK_APP_TOKEN (xapp-…) for Socket Mode');
  const log = appLogger(ctx, 'slack');
  const url = engineUrl(ctx.config.engine, ctx.config.slack.engineUrl);
  const storage = openStorage({ path: ctx.config.storage.path, busyTimeoutMs: ctx.config.storage.busyTimeoutMs, synchronous: ctx.config.storage.botSynchronous });
  try {
    const bot = await launchSlackBot({
      botToken,
      signingSecret,
      appToken,
      apiUrl: s.apiUrl,
      fileHosts: s.fileHosts,
      port: s.port,
      host: s.host,
      storage,
      engine: new EngineClient({ baseUrl: url, token: ctx.secrets.engineToken }),
      dataDir: ctx.config.dataDir,
      limits: ctx.config.limits,
      displaySize: ctx.config.bots.displaySize,
      log,
      recentImageWindowMs: s.recentImageWindowMs,
    });
    await runBotUntilStopped(bot, log);
    return 0;
  } catch (e) {
    log.error(startupProblem(e, url));
    return 1;
  } finally {
    storage.close();
  }
}
