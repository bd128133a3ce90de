/**
 * `asyrp start`: the engine and every bot whose credentials are configured, each in its own process
 * (a bot that crashes cannot take the engine down, and is restarted with a growing delay). Bots start
 * once the engine answers /v1/health. SIGTERM/SIGINT is passed on; the engine drains before exiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CliContext } from '../cli-context.js';
import { appLogger } from '../app-logger.js';
import { parseArgs } from '../parse-args.js';
import { START } from '../command-specs.js';
import { engineUrl } from '../engine-url.js';
import { stopRequested } from '../stop-signal.js';
import { EngineClient } from '../../engine/client/engine-client.js';

/** Children run the same entry point with the same Node flags as this process (bin/asyrp.js normally). */
const childCommand = (args: string[]) => [...process.execArgv, process.argv[1]!, ...args];

interface Service {
  readonly name: string;
  readonly args: string[];
  child?: ChildProcess;
  restarts: number;
}

export async function startCommand(argv: string[], ctx: CliContext): Promise<number> {
  parseArgs(argv, START.flags);
  const c = ctx.config;
  const log = appLogger(ctx, 'start');
  const services: Service[] = [{ name: 'engine', args: ['engine'], restarts: 0 }];
  if (ctx.secrets.discordToken) services.push({ name: 'discord', args: ['discord'], restarts: 0 });
  // Slack runs over HTTP with a signing secret, or over Socket Mode with an app token.
  if (ctx.secrets.slackBotToken && (ctx.secrets.slackSigningSecret || ctx.secrets.slackAppToken)) services.push({ name: 'slack', args: ['slack'], restarts: 0 });
  if (services.length === 1) log.warn('no bot credentials configured (DISCORD_TOKEN, SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET); running the engine alone');

  // Listen for the stop signal before anything starts, so an early SIGTERM is never the default (fatal) one.
  const stopSignal = stopRequested();
  let stopping = false;
  const launch = (s: Service) => {
    const child = spawn(process.execPath, childCommand(s.args), { stdio: ['ignore', 'inherit', 'inherit'] });
    s.child = child;
    child.on('exit', (code, signal) => {
      if (stopping) return;
      s.restarts++;
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(6, s.restarts));
      log.warn(`${s.name} exited (${signal ?? code}); restarting in ${delay / 1000} s`, { service: s.name });
      setTimeout(() => !stopping && launch(s), delay).unref();
    });
  };

  launch(services[0]!);
  const client = new EngineClient({ baseUrl: engineUrl(c.engine), token: ctx.secrets.engineToken, timeoutMs: 2000 });
  let stopAsked = false;
  void stopSignal.then(() => (stopAsked = true));
  const engineUp = (async () => {
    for (let i = 0; i <= 600 && !stopAsked; i++) {
      if (await client.health().then(() => true, () => false)) {
        if (!stopAsked) for (const s of services.slice(1)) launch(s);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (!stopAsked) log.error('the engine did not come up within 5 minutes; bots not started');
  })();

  const signal = await stopSignal;
  await engineUp;
  stopping = true;
  // Bots first (no new edits), then the engine, which drains running jobs.
  for (const s of [...services.slice(1), services[0]!]) {
    const child = s.child;
    if (!child || child.exitCode !== null) continue;
    child.kill(signal);
    await new Promise((r) => child.once('exit', r));
  }
  return 0;
}
